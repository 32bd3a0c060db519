// The portal's page modules. PUBLIC_PAGES need no sign-in (setup guides, "Am I
// blocked?"); SUBSCRIBER_PAGES get the subscribers' sessions (sign-in with the
// submission account, exemption requests). The portal listener (cli/) registers both.
// The public pages are handed the provider's facts too (PublicDeps.site: cli/portal-site.ts).
import type { PageModule, PortalDeps, PublicDeps } from '../types.ts';
import { guidePages } from './guides.ts';
import { blockedPage } from './blocked.ts';
import { accountPages } from './account.ts';

export { clientAddress, type ClientAddress } from './client.ts';
export const PUBLIC_PAGES: PageModule<PublicDeps>[] = [guidePages, blockedPage];
export const SUBSCRIBER_PAGES: PageModule<PortalDeps>[] = [accountPages];
