// The console's page modules, each a group of routes behind the staff sign-in
// (the console listener in cli/ registers them after the sign-in routes).
import type { ConsoleDeps, PageModule } from '../types.ts';
import { accountPages } from './accounts.ts';
import { auditPages } from './audit.ts';
import { casePages } from './cases.ts';
import { chartPages } from './charts.ts';
import { edgePages } from './edges.ts';
import { exemptionDeskPages } from './exemptions.ts';
import { policyPages } from './policy.ts';
import { queuePages } from './queue.ts';
import { subscriberPages } from './subscribers.ts';

export const CONSOLE_PAGES: PageModule<ConsoleDeps>[] = [accountPages, subscriberPages, queuePages, casePages, policyPages, edgePages, auditPages, exemptionDeskPages, chartPages];
