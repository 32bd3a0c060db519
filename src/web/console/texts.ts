// Every text of the console's pages for accounts, subscribers, the queue,
// cases, network policy and the audit log, kept together so the console can be
// translated: labels, headings, help lines, the words for each error code and
// for each operation a role may be refused. Values shown in these texts are
// escaped by the `html` tag wherever they are rendered.
import type { ErrorCode } from '../../app/index.ts';

export const COMMON = {
  reason: 'Reason (recorded in the audit log)',
  reasonRequired: 'Reason (required; recorded in the audit log)',
  reasonCase: 'Reason (required; recorded in the audit log and the case)',
  filter: 'Show',
  next: 'Next page',
  first: 'First page',
  none: 'None.',
  never: 'never',
  yes: 'yes',
  no: 'no',
  notSignedIn: 'You are not signed in. Sign in to use the console.',
  notSignedInTitle: 'Not signed in',
  csrfTitle: 'Form refused',
  csrf: 'This form did not come from your current session (it may have been opened before you signed in again). Go back, reload the page and send it again.',
  errorTitle: 'Something went wrong',
  internal: 'The console could not do this because of an internal error. It has been logged; try again, and tell an administrator if it keeps happening.',
  required: (label: string) => `${label}: this field is required.`,
  tooLong: (label: string) => `${label}: this is longer than allowed.`,
  badField: (label: string, what: string) => `${label}: ${what}.`,
  badTime: 'not a time: write it as YYYY-MM-DD HH:MM (UTC) or pick one',
  badNumber: 'not a whole number',
};

/** What each catalogue code means, in words for the console's people. */
export const ERROR_WORDS: Record<ErrorCode, string> = {
  'bad-request': 'The form was not filled in as needed',
  'invalid-login': 'That is not a valid login',
  'invalid-address': 'That is not a valid mail address',
  'invalid-password': 'The password does not meet the password policy',
  'invalid-hash': 'That is not a password hash this server can check',
  'invalid-prefix': 'That is not a valid address or prefix',
  'invalid-value': 'A value is outside what is allowed',
  unauthenticated: 'You are not signed in',
  forbidden: 'You may not do this',
  'not-found': 'There is no such thing',
  'method-not-allowed': 'This page does not take that kind of request',
  exists: 'That already exists',
  conflict: 'That conflicts with how things are now',
  'too-large': 'That is too large',
  'unsupported-media-type': 'The form was sent in a way this page does not take',
  unprocessable: 'That was refused',
  'rate-limited': 'Too many attempts; wait a little and try again',
  unavailable: 'A part of portwarden this needs is not running here',
  internal: 'An internal error happened',
};

/** "Your role (desk) may not …": the operation in words. */
export const OP_WORDS: Record<string, string> = {
  'accounts.add': 'create accounts', 'accounts.passwd': 'set passwords', 'accounts.alias.add': 'add sender addresses',
  'accounts.alias.remove': 'remove sender addresses', 'accounts.disable': 'disable accounts', 'accounts.enable': 'enable accounts',
  'subscribers.put': 'change subscribers', 'addresses.assign': 'assign addresses', 'addresses.end': 'end address assignments',
  'queue.hold': 'hold messages', 'queue.release': 'release held messages', 'queue.delete': 'delete messages from the queue',
  'queue.requeue': 'requeue messages', 'queue.flush': 'flush the queue',
  'cases.note': 'add notes to cases', 'cases.release': 'release cases', 'cases.quarantine': 'quarantine subscribers',
  'policy.settings.set': 'change the edge settings',
};
export const forbiddenWords = (role: string, op: string): string => {
  const m = /^policy\.(\w+)\.(add|remove|release)$/.exec(op);
  const words = OP_WORDS[op] ?? (m ? `${m[2]} ${POLICY.kinds[m[1] as keyof typeof POLICY.kinds]?.plural ?? m[1]}` : `run ${op}`);
  return `Your role (${role}) may not ${words}.`;
};

export const FIELDS: Record<string, string> = {
  login: 'Login', password: 'Password', subscriber: 'Subscriber', tier: 'Tier', addresses: 'Extra sender addresses',
  address: 'Address', reason: 'Reason', status: 'Status', after: 'After', id: 'Id', contacts: 'Contacts', access: 'Access identities',
  prefix: 'Address or prefix', portLo: 'First port', portHi: 'Last port', start: 'Start', end: 'End', source: 'Source', at: 'At',
  text: 'Note', duration: 'Duration', ids: 'Messages', class: 'Class', note: 'Note', kind: 'Kind', customer: 'Customer',
  expiresAt: 'Expires', case: 'Case', proto: 'Protocol', ports: 'Ports', action: 'Action', relay25: 'Relays may use port 25',
  subscriberIfaces: 'Subscriber interfaces', upstreamIfaces: 'Upstream interfaces', notice4: 'Notice page (IPv4)', notice6: 'Notice page (IPv6)',
  actor: 'Actor', object: 'Object', outcome: 'Outcome', since: 'Since', until: 'Until', edge: 'Edge', format: 'Format', state: 'State',
};

export const ACCOUNTS = {
  title: 'Accounts', listCaption: 'Accounts', filterTitle: 'Find accounts', createTitle: 'Create an account',
  heads: ['Login', 'Subscriber', 'Tier', 'Status', 'Created'], create: 'Create account',
  anyStatus: 'any', active: 'active', disabled: 'disabled',
  addressesHint: 'Separated by commas or spaces; @domain allows a whole domain.',
  afterLogin: 'After login', loginHint: 'One account by its login (the other filters are then not used).', subscriberHint: 'Empty: the login.',
  passwordHint: 'At least the configured length; stored as an argon2id hash.',
  oneTitle: (login: string) => `Account ${login}`,
  facts: 'About this account', statusOf: 'Status', disabledBecause: 'Disabled because', scheme: 'Password hash',
  scram: 'SCRAM-SHA-256 keys', created: 'Created', updated: 'Changed',
  aliases: 'Sender addresses it may use', aliasesNone: 'Only the login itself.', aliasAdd: 'Add address', aliasRemove: 'Remove',
  limits: 'Sending limits in effect', limitsHeads: ['Rule', 'Counts', 'Limit', 'Per', 'Burst', 'Action', 'Left now', 'Full again in'],
  limitsUnavailable: 'Limits are not shown: ', fullNow: 'full now',
  disableTitle: 'Disable', disable: 'Disable account', enableTitle: 'Enable', enable: 'Enable account',
  passwdTitle: 'Set a new password', passwd: 'Set password', newPassword: 'New password',
  done: { added: 'Account created.', disabled: 'Account disabled.', enabled: 'Account enabled.', passwd: 'Password changed.', aliasAdded: 'Address added.', aliasRemoved: 'Address removed.', aliasMissing: 'That address was not listed.' },
};

export const SUBSCRIBERS = {
  title: 'Subscribers', listCaption: 'Subscribers', heads: ['Subscriber', 'Tiers', 'Accounts', 'Status'],
  putTitle: 'Create or change a subscriber', put: 'Save subscriber', contactsHint: 'Mailboxes notices go to, separated by commas.',
  accessHint: 'radius:USER, hw:MAC, duid:…, separated by commas.',
  whoTitle: 'Who held an address', who: 'Look up', whoAt: 'At (UTC; empty: now)', whoHeads: ['Subscriber', 'Address or prefix', 'Ports', 'From', 'Until', 'Source'],
  whoNone: 'Nobody held that address then.',
  oneTitle: (id: string) => `Subscriber ${id}`,
  record: 'Directory record', contactsLabel: 'Contacts', accessLabel: 'Access identities', statusLabel: 'Status of its accounts', tiersLabel: 'Tiers of its accounts', noRecord: 'No directory record (only accounts).', noDirectory: 'The subscriber directory is not available here.',
  accounts: 'Accounts', current: 'Addresses held now', history: 'Address history',
  addrHeads: ['Address or prefix', 'Ports', 'From', 'Until', 'Source', 'Session'],
  assignTitle: 'Assign an address', assign: 'Assign', startHint: 'UTC, YYYY-MM-DD HH:MM; empty: now.',
  endAction: 'End now', stillHeld: 'still held',
  done: { put: 'Subscriber saved.', assigned: 'Address assigned.', ended: 'Assignment ended.' },
};

export const QUEUE = {
  title: 'Queue', statsCaption: 'Messages per state', statsHeads: ['Active', 'Deferred', 'Held', 'Damaged', 'Commits', 'File syncs', 'Directory syncs'],
  filterTitle: 'Filter', anyState: 'any', listCaption: 'Messages in the queue, newest first',
  shown: (n: number, total: number) => `The newest ${n} of ${total} matching messages are listed; filter by state, account or sender to see others.`,
  heads: ['Select', 'Queue id', 'State', 'Arrived', 'Sender', 'Account', 'Recipients', 'Size', 'Attempts', 'Why held or last reply'],
  select: (id: string) => `Select message ${id}`,
  actionsTitle: 'Do with the selected messages', actions: { hold: 'Hold', release: 'Release', delete: 'Delete', requeue: 'Requeue' },
  flushTitle: 'Deliver every deferred message now', flush: 'Flush the queue',
  oneTitle: (id: string) => `Message ${id}`, envelope: 'Envelope', attributes: 'Attributes', headers: 'Header section (as stored, shown as text)',
  recipients: 'Recipients', recipientsHeads: ['Recipient', 'State', 'Last reply'], sender: 'Sender', nullSender: '<> (the null sender)',
  state: 'State', size: 'Size (bytes)', arrival: 'Arrived', attempts: 'Delivery attempts', nextAttempt: 'Next attempt', lastReply: 'Last reply',
  holdReason: 'Why held', damaged: 'Damaged', account: 'Account', oneActions: 'Do with this message',
  done: (action: string, n: number, skipped: number, missing: number) =>
    `${action}: ${n} message${n === 1 ? '' : 's'} done${skipped ? `, ${skipped} skipped (not in a state for it)` : ''}${missing ? `, ${missing} no longer in the queue` : ''}.`,
  flushed: 'Every deferred message is being delivered now.',
  noneSelected: 'Select at least one message.', noAction: 'Choose what to do with the selected messages.',
};

export const CASES = {
  title: 'Abuse cases', filterTitle: 'Show cases', open: 'open', closed: 'closed', any: 'any', listCaption: 'Cases, newest first',
  heads: ['Case', 'Subscriber', 'State', 'Opened', 'Score', 'In force'],
  durationRange: 'from 1 hour to 365 days (8760 hours)',
  quarantineTitle: 'Quarantine a subscriber', quarantine: 'Quarantine', durationHours: 'Duration in hours (empty: until released)',
  oneTitle: (id: string) => `Case ${id}`, facts: 'About this case', subscriber: 'Subscriber', state: 'State', opened: 'Opened', closedAt: 'Closed',
  score: 'Score', lastSignal: 'Last signal', releases: 'Releases (self / desk)', inForce: 'Decisions in force',
  activeHeads: ['Decision', 'Action', 'Rule', 'Since', 'Until'], untilReleased: 'until released',
  where: (address: string | null, port: number | null, account: string | null): string =>
    [address ? (port !== null ? `${address} port ${port}` : address) : '', account ? `account ${account}` : ''].filter(Boolean).join(', ') || 'the subscriber',
  otherEvidence: (cls: string, amount: number, where: string): string => `${cls}: ${amount} from ${where}`,
  evidence: 'Evidence', evidenceHeads: ['What was seen', 'From', 'First', 'Last'],
  timeline: 'Timeline', timelineHeads: ['When', 'What', 'Who', 'Text'],
  noteTitle: 'Add a note', note: 'Add note', releaseTitle: 'Release', release: 'Release the subscriber',
  releaseHint: 'The previous policy comes back (exemptions included) and suspended accounts are enabled.',
  nothingInForce: 'Nothing is in force on this case.',
  done: { note: 'Note added.', released: 'Case released.', quarantined: 'Subscriber quarantined.' },
};

const n = (x: number, one: string, many = `${one}s`): string => `${x} ${x === 1 ? one : many}`;
/** Evidence in plain words for the desk: the class, the summed amounts, never a raw report. */
export const EVIDENCE: Record<string, (amount: number, count: number, where: string) => string> = {
  'edge-blocked': (a, _c, w) => `${n(a, 'blocked port-25 connection attempt')} from ${w}`,
  'edge-destinations': (a, _c, w) => `${n(a, 'distinct outside mail server')} tried on port 25 from ${w}`,
  'auth-failure': (a, _c, w) => `${n(a, 'failed sign-in')} to the mail service from ${w}`,
  'auth-lockout': (_a, c, w) => `${n(c, 'brute-force lockout')} of ${w}`,
  'limit-hit': (a, _c, w) => `${n(a, 'sending limit hit')} by ${w}`,
  flood: (_a, c, w) => `${n(c, 'sudden flood')} of mail from ${w}`,
  report: (a, _c, w) => `${n(a, 'outside complaint')} about mail from ${w}`,
  dnsbl: (_a, _c, w) => `${w} listed on a public DNS blocklist`,
};

export const POLICY = {
  title: 'Network policy', edgesTitle: 'Edges and their policy',
  toEdges: 'The edges, their applied versions, the next changes, blocked attempts and settings', toEntries: 'The policy entries: pools, relays, exemptions, quarantine, walled garden',
  kinds: {
    pools: { title: 'Address pools', plural: 'address pools', heads: ['Prefix', 'Class', 'Note'], add: 'Add pool' },
    relays: { title: 'Relays (may send on port 25)', plural: 'relays', heads: ['Prefix', 'Kind', 'Customer', 'Note'], add: 'Add relay' },
    exemptions: { title: 'Port-25 exemptions', plural: 'exemptions', heads: ['Prefix', 'Customer', 'Reason', 'Granted by', 'Granted', 'Expires'], add: 'Grant exemption' },
    quarantine: { title: 'Quarantine (walled garden only)', plural: 'quarantines', heads: ['Prefix', 'Subscriber', 'Case', 'Reason', 'Since', 'By'], add: 'Quarantine prefix' },
    garden: { title: 'Walled garden destinations', plural: 'walled garden destinations', heads: ['Prefix', 'Protocol', 'Ports', 'Note'], add: 'Add destination' },
  },
  remove: 'Remove', release: 'Release', actions: 'Change', expiresHint: 'UTC, YYYY-MM-DD HH:MM; empty: never.',
  settings: 'Edge settings', settingsSave: 'Save settings', ifacesHint: 'Separated by commas; empty: match by address only.',
  noticeHint: 'ADDR[:PORT] inside the walled garden; empty removes the redirect.',
  edges: 'Edges', edgesHeads: ['Edge', 'Reported', 'Enforces version', 'Recorded as applied', 'Sets omitted', 'Last refused policy'],
  current: (v: string) => `Policy version in force now: ${v}`, upToDate: 'up to date', behind: 'behind',
  diff: 'What the next apply changes', diffFor: 'Edge', diffShow: 'Show changes', diffNone: 'Nothing: the edge has this version.',
  diffHeads: ['Set', 'Added', 'Removed'], diffFrom: (from: string | null, to: string) => `From ${from ?? 'nothing applied'} to ${to}.`,
  compile: 'Compiled policy', compileShow: 'Show',
  formats: [['nft', 'nftables'], ['iptables', 'iptables + ipset'], ['ios', 'Cisco IOS'], ['junos', 'Junos'], ['rbldnsd', 'rbldnsd zone']] as ReadonlyArray<readonly [string, string]>, blocked: 'Blocked port-25 attempts per source',
  blockedHeads: ['Edge', 'Source', 'Packets', 'Destinations', 'Reported'],
  done: { add: 'Entry added.', remove: 'Entry removed.', settings: 'Settings saved.' },
};

export const AUDIT = {
  title: 'Audit log', filterTitle: 'Filter', listCaption: 'Changes, newest first',
  heads: ['When', 'Who', 'From', 'Action', 'Object', 'Reason', 'Outcome', 'Input'],
  actionHint: 'An action, or its area ending in a dot ("accounts.").', timeHint: 'UTC, YYYY-MM-DD HH:MM.',
  outcomeHint: '"ok" or an error code (forbidden, not-found, …).',
};
