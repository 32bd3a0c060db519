// The console's page modules, each a group of routes behind the staff sign-in
// (the console listener in cli/ registers them after the sign-in routes).
import type { ConsoleDeps, PageModule } from '../types.ts';
import { exemptionDeskPages } from './exemptions.ts';

export const CONSOLE_PAGES: PageModule<ConsoleDeps>[] = [];
CONSOLE_PAGES.push(exemptionDeskPages);
