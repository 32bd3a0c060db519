// The console's page modules, each a group of routes behind the staff sign-in
// (the console listener in cli/ registers them after the sign-in routes).
import type { ConsoleDeps, PageModule } from '../types.ts';
import { chartPages } from './charts.ts';

export const CONSOLE_PAGES: PageModule<ConsoleDeps>[] = [chartPages];
