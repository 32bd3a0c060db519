// The portal's page modules. PUBLIC_PAGES need no sign-in (setup guides, "Am I
// blocked?"); SUBSCRIBER_PAGES get the subscribers' sessions (sign-in with the
// submission account, exemption requests). The portal listener (cli/) registers both.
import type { PageModule, PortalDeps, WebDeps } from '../types.ts';
import { accountPages } from './account.ts';

export const PUBLIC_PAGES: PageModule<WebDeps>[] = [];
export const SUBSCRIBER_PAGES: PageModule<PortalDeps>[] = [accountPages];
