// The one catalogue of SMTP reply texts portwarden gives, by stable key. Every
// part answers with an entry from here (tools and tests scan for replies built
// anywhere else: src/core/replies.test.ts); the Postfix policy service derives
// its action lines from the same entries (replyLine), so a customer reads the
// same words whichever way their mail came in. Codes and enhanced codes follow
// RFC 3463, RFC 4954 §6, RFC 5248 and RFC 6409 §7 (vague to the unauthenticated;
// details go to the log); texts follow Postfix's wording where it has one.
import { reply, type Reply } from './reply.ts';

/** What a limit reply may name of the rule that refused (limits' CompiledRule fits). */
export interface LimitRuleInfo {
  limit: number;
  counts: string;
  periodMs: number;
  scope: string;
}

const SCOPE_WORDS: Record<string, string> = {
  account: 'this account', subscriber: 'your subscription', ip: 'your address', prefix: 'your network', aggregate: 'the service',
};

/** A period in words: "hour", "2 hours", "90 seconds" (also what `limits show` prints). */
export function periodText(ms: number): string {
  const units: Array<[number, string]> = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  for (const [u, name] of units) if (ms % u === 0) return ms === u ? name : `${ms / u} ${name}s`;
  return `${ms} ms`;
}

/** "try again in N minutes" (at least one), in hours from two hours on; a request no wait can admit says so. */
export function retryText(ms: number): string {
  if (!Number.isFinite(ms)) return 'this request is larger than the limit allows';
  const min = Math.max(1, Math.ceil(ms / 60_000));
  if (min >= 120) return `try again in ${Math.ceil(min / 60)} hours`;
  return `try again in ${min} minute${min === 1 ? '' : 's'}`;
}

function limitWords(rule: LimitRuleInfo | undefined): string {
  if (!rule) return 'Sending limit reached';
  return `Sending limit of ${rule.limit} ${rule.counts} per ${periodText(rule.periodMs)} for ${SCOPE_WORDS[rule.scope] ?? rule.scope} reached`;
}

/** A reply the client may see: ASCII only (a non-SMTPUTF8 client must not get UTF-8 back). */
const shown = (a: string): string => a.replace(/[^\x21-\x7e]/gu, '?');

const CATALOGUE = {
  // ---- the engine's own (src/smtp) ----
  ok: reply(250, '2.0.0', 'Ok'),
  mailOk: reply(250, '2.1.0', 'Ok'),
  rcptOk: reply(250, '2.1.5', 'Ok'),
  help: reply(214, '2.0.0', 'Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT AUTH STARTTLS'),
  bye: reply(221, '2.0.0', 'Bye'),
  startData: reply(354, undefined, 'End data with <CR><LF>.<CR><LF>'),
  readyTls: reply(220, '2.0.0', 'Ready to start TLS'),
  authOk: reply(235, '2.7.0', 'Authentication successful'),
  unknown: reply(502, '5.5.2', 'Error: command not recognized'),
  vrfyDisabled: reply(502, '5.5.1', 'VRFY command is disabled'),
  expnDisabled: reply(502, '5.5.1', 'EXPN command is disabled'),
  tooLong: reply(500, '5.5.2', 'Error: command too long'),
  badSyntax: reply(500, '5.5.2', 'Error: bad syntax'),
  bareLfCommand: reply(500, '5.5.2', 'Error: bare <LF> received'),
  needHelo: reply(503, '5.5.1', 'Error: send HELO/EHLO first'),
  needMail: reply(503, '5.5.1', 'Error: need MAIL command'),
  nestedMail: reply(503, '5.5.1', 'Error: nested MAIL command'),
  noRecipients: reply(554, '5.5.1', 'Error: no valid recipients'),
  dataAfterBdat: reply(503, '5.5.1', 'Error: DATA after BDAT'),
  rcptAfterBdat: reply(503, '5.5.1', 'Error: RCPT after BDAT'),
  tooManyRecipients: reply(452, '4.5.3', 'Error: too many recipients'),
  mustStartTls: reply(530, '5.7.0', 'Must issue a STARTTLS command first'),
  tlsActive: reply(503, '5.5.1', 'Error: TLS already active'),
  tlsUnavailable: reply(454, '4.7.0', 'TLS not available'),
  syncError: reply(554, '5.5.0', 'Error: SMTP protocol synchronization'),
  /** Every unexpected failure: a handler's exception, a spool I/O error, a policy decision that threw. */
  internal: reply(451, '4.3.0', 'Error: internal error'),
  badSender: reply(501, '5.1.7', 'Bad sender address syntax'),
  badRecipient: reply(501, '5.1.3', 'Bad recipient address syntax'),
  needUtf8: reply(553, '5.6.7', 'Must declare SMTPUTF8 to send unicode address'),
  sizeExceeded: reply(552, '5.3.4', 'Message size exceeds fixed limit'),
  bareLf: reply(550, '5.5.2', 'Error: bare <LF> received'),
  authBeforeHelo: reply(503, '5.5.1', 'Error: send HELO/EHLO first'),
  alreadyAuthed: reply(503, '5.5.1', 'Error: already authenticated'),
  authInTx: reply(503, '5.5.1', 'Error: MAIL transaction in progress'),
  authMechUnknown: reply(504, '5.5.4', 'Unrecognized authentication type'),
  authAborted: reply(501, '5.0.0', 'Authentication aborted'),
  authBadBase64: reply(501, '5.5.2', 'Cannot decode response'),
  authLineTooLong: reply(500, '5.5.6', 'Authentication Exchange line is too long'),
  authSyntax: reply(501, '5.5.4', 'Syntax: AUTH mechanism'),
  syntax: (usage: string): Reply => reply(501, '5.5.4', `Syntax: ${usage}`),
  badParam: (name: string): Reply => reply(501, '5.5.4', `Bad ${name} parameter syntax`),
  unsupportedParam: (name: string): Reply => reply(555, '5.5.4', `Unsupported option: ${name}`),
  greeting: (host: string): Reply => reply(220, undefined, `${host} ESMTP portwarden`),
  ehlo: (lines: string | readonly string[]): Reply => reply(250, undefined, lines),
  saslChallenge: (base64: string): Reply => reply(334, undefined, base64),
  tooManyErrors: (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many errors`),
  timeoutExceeded: (host: string): Reply => reply(421, '4.4.2', `${host} Error: timeout exceeded`),
  tooManyConnections: (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many connections`),
  tooManyFromAddress: (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many connections from your address, try again later`),
  tooManyFromNetwork: (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many connections from your network, try again later`),
  shuttingDown: (host: string): Reply => reply(421, '4.3.2', `${host} Service shutting down`),
  chunkReceived: (n: number): Reply => reply(250, '2.0.0', `${n} octets received`),
  /** A body stream ended early (the session closed mid-transaction); seen only in logs. */
  aborted: (why: string): Reply => reply(451, '4.3.0', `transaction aborted: ${why}`),

  // ---- authentication (src/auth, the brute-force gate in src/cli/limits.ts) ----
  /** An unknown user and a wrong password read the same (RFC 6409 §7). */
  authFailed: reply(535, '5.7.8', 'Error: authentication failed'),
  authMalformed: reply(501, '5.5.2', 'Error: malformed authentication data'),
  authTemporary: reply(454, '4.7.0', 'Temporary authentication failure'),
  /** RFC 5248 X.7.13, given only after the credentials proved correct. */
  accountDisabled: (url: string): Reply => reply(525, '5.7.13', `User account disabled, see ${url}`),
  authLocked: reply(454, '4.7.0', 'Too many failed authentication attempts; try again later'),
  authLockedClose: reply(421, '4.7.0', 'Too many failed authentication attempts; closing connection'),

  // ---- sending limits (src/cli/limits.ts and the Postfix policy service) ----
  /** A limit store that cannot answer (Redis down, failMode closed). */
  limitsUnavailable: reply(451, '4.3.0', 'Sending limits temporarily unavailable; try again later'),
  /** The rule is named only to a client that authenticated (RFC 6409 §7). */
  limited: (rule: LimitRuleInfo | undefined, retryAfterMs: number, helpUrl: string): Reply =>
    reply(450, '4.7.1', `${limitWords(rule)}; ${retryText(retryAfterMs)}; see ${helpUrl}`),
  flood: (helpUrl: string, suspended: boolean): Reply =>
    reply(550, '5.7.28', `Mail flood detected;${suspended ? ' sending suspended;' : ''} see ${helpUrl}`),
  postmasterLimited: (retryAfterMs: number): Reply =>
    reply(450, '4.7.1', `Too many messages to postmaster from your address; ${retryText(retryAfterMs)}`),

  // ---- the MSA (src/submission) ----
  authRequired: reply(530, '5.7.0', 'Authentication required'),
  notFqdn: reply(554, '5.1.2', 'Recipient address rejected: domain name must be fully qualified'),
  storage: reply(452, '4.3.1', 'Insufficient system storage'),
  senderDisabled: (helpUrl: string): Reply => reply(550, '5.7.1', `Account disabled; see ${helpUrl}`),
  senderNotOwned: (identity: string): Reply => reply(550, '5.7.1', `Sender address rejected: not owned by user ${shown(identity)}`),
  queued: (id: string): Reply => reply(250, '2.0.0', `Ok: queued as ${id}`),
  noFrom: reply(554, '5.6.0', 'Message has no From: header field'),
  duplicateOriginator: (label: string): Reply => reply(550, '5.7.1', `Message has more than one ${label}: header field`),
  originatorRejected: (field: string, why: string): Reply =>
    reply(550, '5.7.1', `Header ${field}: field rejected: ${why}; use a plain address or Name <address>`),
  headerAddressNotOwned: (address: string, identity: string): Reply =>
    reply(550, '5.7.1', `Header address <${shown(address)}> rejected: not owned by user ${shown(identity)}`),
  displayNameNotOwned: (field: string, named: string, identity: string): Reply =>
    reply(550, '5.7.1', `Header ${field}: display name shows <${shown(named)}>, not owned by user ${shown(identity)}`),
  /** MX mode refuses address-literal recipients at RCPT (src/relay/destinations.ts). */
  literalRecipient: reply(550, '5.1.2', 'Recipient address rejected: address literals are not accepted here; use the domain name'),

  // ---- the abuse mailbox (src/abuse/report) ----
  /** RFC 2142: only abuse@ and postmaster@ of the configured domains. */
  mailboxUnknown: reply(550, '5.1.1', 'Recipient address rejected: User unknown'),
  /** Given only once the report's file is fsync'd and its row written. */
  reportStored: (id: string): Reply => reply(250, '2.0.0', `Ok: report ${id} stored`),

  // ---- message checks (src/message) ----
  headerMalformed: reply(554, '5.6.0', 'Malformed message header'),
  headerLine: reply(554, '5.6.0', 'Message header line too long'),
  headerSize: reply(552, '5.3.4', 'Message header size exceeds limit'),
  bodyLine: reply(554, '5.6.0', 'Message content line too long (RFC 5322 2.1.1)'),
  nul: reply(554, '5.6.0', 'Message contains NUL characters'),
  headerRecipients: reply(554, '5.5.3', 'Too many recipient addresses in message header'),
  tooManyHops: (max: number): Reply => reply(554, '5.4.6', `Too many hops: more than ${max} Received fields (mail loop?)`),
  addressFields: (max: number): Reply => reply(552, '5.3.4', `Too many address header fields (limit ${max})`),
  addressFieldLong: (max: number): Reply => reply(552, '5.3.4', `Address header field too long (limit ${max} octets)`),

  // ---- content scanning (src/scan; issue 14): the scanner's reason goes to the log, never to the client ----
  /** A scanner's reject (rspamd reject, clamd FOUND): refused in the session, so nothing bounces. */
  scanRejected: reply(554, '5.7.1', 'Message content rejected'),
  /** rspamd soft reject (or greylist when mapped so): the client tries again later. */
  scanSoftReject: reply(451, '4.7.1', 'Message content deferred; try again later'),
  /** A scanner that failed (every host) under the tempfail policy, or an oversize message under tempfail. */
  scanUnavailable: reply(451, '4.3.0', 'Content scanning temporarily unavailable; try again later'),
  /** An oversize message under the reject policy. */
  scanTooBig: reply(552, '5.3.4', 'Message too large to be scanned'),

  // ---- retired alias domains (src/retire; issue 14, REQUIREMENTS K2): never names another address unless its user asked ----
  /** Phase tempfail: senders see the delay in their queues before the cut. */
  retiredSoon: (domain: string): Reply => reply(450, '4.1.6', `Recipient address rejected: the domain name ${shown(domain)} is being retired; ask the recipient for their current address`),
  /** Phase refuse (a user who did not object) and gone. */
  retiredRefused: (domain: string): Reply => reply(550, '5.1.1', `Recipient address rejected: the domain name ${shown(domain)} is retired`),
  /** Phase refuse, a user who asked that senders be told where they are now (RFC 5321 §3.4, X.1.6). */
  retiredMoved: (address: string): Reply => reply(551, '5.1.6', `User not local; please try <${shown(address)}>`),

  // ---- the relay's own outcomes (src/relay): what a DSN and the log say when no next hop answered ----
  relayLiteral: reply(550, '5.1.2', 'Address literals are not delivered to in MX mode'),
  relayBadMailbox: reply(553, '5.1.3', 'Bad destination mailbox address syntax'),
  relayBadLiteral: reply(553, '5.1.3', 'Bad destination address literal'),
  relayNullMx: (domain: string): Reply => reply(556, '5.1.10', `Domain ${domain} accepts no mail (null MX)`),
  relayNoDomain: (domain: string): Reply => reply(550, '5.4.4', `Domain ${domain} not found`),
  relayMxLookup: (domain: string, code: string): Reply => reply(451, '4.4.3', `DNS lookup of MX for ${domain} failed: ${code}`),
  relayHostLookup: (names: string, why: string): Reply => reply(451, '4.4.3', `DNS lookup of ${names} failed: ${why}`),
  relayNoAddress: (domain: string): Reply => reply(550, '5.4.4', `No address for the mail hosts of ${domain}`),
  relayNonPublic: (domain: string, refused: string): Reply => reply(451, '4.4.4', `Not connecting to non-public addresses of ${domain}: ${refused}`),
  relayNoAnswer: (domain: string, errors: string): Reply => reply(451, '4.4.1', `No mail host of ${domain} answered: ${errors}`),
  relayCredentials: (hop: string, why: string): Reply => reply(451, '4.7.0', `Credentials not sent to ${hop}: ${why}`),
  relayUnreachable: (hop: string, why: string): Reply => reply(451, '4.4.1', `Next hop ${hop} unreachable: ${why}`),
  relayDsnNotQueued: reply(451, '4.3.0', 'Delivery status notification not queued'),
  relayNoUtf8: reply(553, '5.6.7', 'Next hop does not support SMTPUTF8 for a non-ASCII address'),
  relayUnsendable: reply(553, '5.1.3', 'Address cannot be sent to the next hop'),
  relayTooBig: (size: number, max: number): Reply => reply(552, '5.3.4', `Message size ${size} exceeds the next hop's limit of ${max}`),
  relayQueueRead: reply(451, '4.3.0', 'Local error reading the queue file'),
  relayConnection: (why: string): Reply => reply(451, '4.4.2', `Connection failed: ${why}`),
} as const satisfies Record<string, Reply | ((...args: never[]) => Reply)>;

export type ReplyKey = keyof typeof CATALOGUE;

// Which entry a reply came from, for counting refusals by reason (the stats part):
// kept beside the reply objects, not in them, so a reply stays {code, enhanced, text}.
const KEYS = new WeakMap<Reply, ReplyKey>();

function keyed<T extends Record<string, Reply | ((...args: never[]) => Reply)>>(cat: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cat)) {
    const key = k as ReplyKey;
    if (typeof v === 'function') {
      const make = v as (...args: never[]) => Reply;
      out[k] = (...args: never[]): Reply => { const r = make(...args); KEYS.set(r, key); return r; };
    } else {
      KEYS.set(v, key);
      out[k] = v;
    }
  }
  return out as T;
}

export const REPLIES = keyed(CATALOGUE);

/** The catalogue key a reply was made from, or null (a reply from elsewhere: a test double, a copy). */
export function replyKeyOf(r: Reply): ReplyKey | null {
  return KEYS.get(r) ?? null;
}

/**
 * One line "code enhanced text" of a catalogue entry: a Postfix policy action
 * (access(5) "NNN text"), optionally with another code of the same class (a
 * reply given at RCPT where the entry's own code belongs to AUTH). Control
 * characters become spaces: the line goes into a one-line protocol answer.
 */
export function replyLine(r: Reply, code: number = r.code): string {
  if (Math.floor(code / 100) !== Math.floor(r.code / 100)) throw new RangeError(`reply class ${r.code} cannot become ${code}`);
  const text = typeof r.text === 'string' ? r.text : r.text.join(' ');
  return `${code} ${r.enhanced ? `${r.enhanced} ` : ''}${text}`.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}
