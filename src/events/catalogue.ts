// Every event and every field, in words: the source of docs/events.md
// (`node tools/events-doc.ts` writes it; a test checks the file is current).
// Typed against EventMap, so an event or a field added there without a line
// here fails `tsc`, and an example that does not fit its event does too.
import type { EventMap, EventName, TransactionEvent } from './index.ts';

export interface EventDoc<K extends EventName> {
  /** Who publishes it, and when. */
  summary: string;
  fields: { [F in keyof EventMap[K]]-?: string };
  example: EventMap[K];
}

const TX: { [F in keyof TransactionEvent]-?: string } = {
  at: 'when the transaction began (MAIL, or DATA for the data phase), ms since the epoch',
  session: 'the SMTP session id (the smtp engine\'s debug lines carry it too)',
  listener: 'the listener\'s name from the config',
  clientIp: 'the client address (after PROXY protocol), as text',
  clientPort: 'the client\'s source port (RFC 6302: behind CGNAT the address alone names no one)',
  account: 'the authenticated login, or null (the postmaster exception)',
  subscriber: 'the customer owning the account, or null',
  mechanism: 'the SASL mechanism of the session, or null',
  tlsVersion: 'the TLS protocol version, or null',
  tlsCipher: 'the TLS cipher suite, or null',
  sender: 'the envelope sender (MAIL FROM), as the client gave it; "" for the null reverse-path',
  recipients: 'accepted recipients',
  size: 'bytes after the fixer (as relayed), or null before data',
  messageId: 'the Message-ID (kept or generated), or null before data',
  repairs: 'header repairs the fixer made (J1–J4 names)',
  reply: 'the final reply (code and enhanced code; for a refusal also `key`, the reply catalogue\'s entry, e.g. "senderNotOwned"), or null for a 250',
  ms: 'milliseconds from the start of the phase to the reply',
};

const TX_EXAMPLE: TransactionEvent = {
  at: 1764633600000, session: 's1f', listener: 'submission', clientIp: '192.0.2.7', clientPort: 40001, account: 'alice@isp.example',
  subscriber: 'cust-1', mechanism: 'PLAIN', tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', sender: 'alice@isp.example',
  recipients: 1, size: 512, messageId: '<m1@isp.example>', repairs: [], reply: { code: 250, enhanced: '2.0.0' }, ms: 4,
};

export const EVENTS: { [K in EventName]: EventDoc<K> } = {
  'session.opened': {
    summary: 'submission: a client connected (after the engine\'s connection limits let it in)',
    fields: { session: 'the session id', listener: 'the listener\'s name', clientIp: 'the client address' },
    example: { session: 's1f', listener: 'submission', clientIp: '192.0.2.7' },
  },
  'session.closed': {
    summary: 'submission: the session ended, however it ended',
    fields: { session: 'the session id', listener: 'the listener\'s name', clientIp: 'the client address' },
    example: { session: 's1f', listener: 'submission', clientIp: '192.0.2.7' },
  },
  'auth.succeeded': {
    summary: 'the SASL port (cli/limits.ts throttledSasl): an AUTH exchange succeeded; also a portal sign-in with the submission account (listener portal, cli/portal-wiring.ts)',
    fields: { session: 'the session id', listener: 'the listener\'s name', clientIp: 'the client address', mechanism: 'the SASL mechanism', login: 'the authenticated identity' },
    example: { session: 's1f', listener: 'submission', clientIp: '192.0.2.7', mechanism: 'PLAIN', login: 'alice@isp.example' },
  },
  'auth.failed': {
    summary: 'the SASL port: an AUTH exchange failed, or was refused before it began because the IP or prefix is locked out; also a failed portal sign-in (listener portal), counted by the same brute-force tracker',
    fields: {
      session: 'the session id', listener: 'the listener\'s name', clientIp: 'the client address', mechanism: 'the SASL mechanism',
      login: 'the login the client claimed, as typed, or null when it got no further', why: 'failure (credentials or a malformed exchange), locked, disabled, error (a temporary failure)',
    },
    example: { session: 's1f', listener: 'submission', clientIp: '192.0.2.7', mechanism: 'PLAIN', login: 'alice@isp.example', why: 'failure' },
  },
  'auth.lockout': {
    summary: 'the brute-force tracker set a lock',
    fields: {
      scope: 'ip, prefix, prefix56, prefix48 or account', key: 'what is locked: the IP, the prefix, or the account (with its source prefix for a known prefix\'s bucket)',
      clientIp: 'the client whose failure set it', login: 'the login of that failure, or null', lockoutMs: 'how long the lock lasts',
    },
    example: { scope: 'ip', key: '192.0.2.7', clientIp: '192.0.2.7', login: null, lockoutMs: 600000 },
  },
  'limit.hit': {
    summary: 'the limits gate at MAIL or RCPT (and the postmaster exception\'s rate): a rule refused, or held, a message or recipient',
    fields: {
      rule: 'the rule id (tier/name, */name, @account/name; "postmaster" for the postmaster exception), or null', scope: 'the rule\'s scope, or null',
      outcome: 'limited (450 4.7.1), flood (550 5.7.28), unavailable (451 4.3.0: the store failed closed), held (a rule with action hold: the message goes to hold/)',
      account: 'the account, or null (postmaster exception)', subscriber: 'its subscriber, or null', clientIp: 'the client address',
      retryAfterMs: 'when the refused request would pass', degraded: 'decided by the node-local fallback bucket (the shared store was unreachable)',
    },
    example: { rule: 'residential/messages-hour', scope: 'account', outcome: 'limited', account: 'alice@isp.example', subscriber: 'cust-1', clientIp: '192.0.2.7', retryAfterMs: 1200000, degraded: false },
  },
  'limit.degraded': {
    summary: 'the limits gate: a request was allowed by the node-local fallback bucket because the shared store was unreachable',
    fields: { account: 'the account', clientIp: 'the client address' },
    example: { account: 'alice@isp.example', clientIp: '192.0.2.7' },
  },
  'limit.flood': {
    summary: 'a flood rule fired (submission, or the Postfix policy service); a flood signal for the abuse engine, whose rules suspend (with abuse.enabled false: with suspend the account is disabled by the flood subscriber)',
    fields: {
      rule: 'the flood rule id', account: 'the account', subscriber: 'its subscriber, or null (the policy service does not know it)', clientIp: 'the client address',
      suspend: 'the rule suspends the account', source: 'submission or policy-service',
    },
    example: { rule: 'residential/flood', account: 'mallory@isp.example', subscriber: 'cust-2', clientIp: '192.0.2.66', suspend: true, source: 'submission' },
  },
  'recipient.answered': {
    summary: 'submission: every answer to RCPT, accepted or refused',
    fields: { session: 'the session id', listener: 'the listener\'s name', reply: 'the reply\'s code and enhanced code (a refusal also its catalogue `key`, e.g. "limited")' },
    example: { session: 's1f', listener: 'submission', reply: { code: 250, enhanced: '2.1.5' } },
  },
  'message.accepted': {
    summary: 'submission: a message was committed to the queue (active/) and answered 250',
    fields: { ...TX, queueId: 'the queue id (also in the Received field and the 250 reply)' },
    example: { ...TX_EXAMPLE, queueId: '01M8T7QR83A6AP7620' },
  },
  'message.refused': {
    summary: 'submission: a transaction ended without a queued message: refused at MAIL, or at the end of data (content, binding, storage, decision)',
    fields: { ...TX, queueId: 'the queue id it would have had, or null when refused before data' },
    example: { ...TX_EXAMPLE, queueId: null, size: null, messageId: null, recipients: 0, reply: { code: 550, enhanced: '5.7.1', key: 'senderNotOwned' } },
  },
  'message.held': {
    summary: 'submission: a message was committed straight into hold/ (answered 250 as usual); it is relayed only after `portwarden queue release`',
    fields: { ...TX, queueId: 'the queue id', reason: 'why, e.g. "held: over limit residential/messages-hour"' },
    example: { ...TX_EXAMPLE, queueId: '01M8T7QR83A6AP7621', reason: 'held: over limit residential/messages-hour' },
  },
  'scan.verdict': {
    summary: 'scan pipeline (submission and the inbound filter): one scanner\'s result for one message, after the message\'s fate is decided',
    fields: {
      queueId: 'the queue id', direction: 'outbound (a submission) or inbound (the MX filter)', account: 'the authenticated login, or null',
      subscriber: 'the customer owning the account, or null', clientIp: 'the client address', scanner: 'the scanner\'s name (rspamd, clamd)',
      verdict: 'clean, reject, soft-reject, add-header, hold, oversize or failed', action: 'what the verdict maps to: accept, add-header, hold, tempfail or reject',
      reason: 'the scanner\'s words: rspamd action and symbols, the clamd signature, or the failure', score: 'rspamd\'s score, or null',
      host: 'the scanner host that answered, or null', ms: 'milliseconds the scan took',
    },
    example: { queueId: '01M8T7QR83A6AP7620', direction: 'outbound', account: 'alice@isp.example', subscriber: 'cust-1', clientIp: '198.51.100.7', scanner: 'clamd', verdict: 'reject', action: 'reject', reason: 'Portwarden.Test.Marker.UNOFFICIAL', score: null, host: '127.0.0.1:3310', ms: 4 },
  },
  'inbound.filtered': {
    summary: 'inbound filter (Postfix before-queue content filter): one message finished — forwarded to the next hop, held for the desk, refused or deferred',
    fields: {
      queueId: 'our queue id when the message was held, else null', clientIp: 'the remote client Postfix saw (XFORWARD ADDR), or null',
      sender: 'the envelope sender', recipients: 'the envelope recipients', dkim: 'the DKIM result checked on the raw bytes before any repair',
      repairs: 'the repairs made (J1–J4), in order', outcome: 'forwarded, held, refused or deferred', reply: 'the reply given to Postfix',
      size: 'the message size as received', spam: 'the inbound scan called it spam (true), clean (false), or it was not scanned (null)', ms: 'milliseconds from DATA to the reply',
    },
    example: { queueId: null, clientIp: '203.0.113.9', sender: 'news@example.com', recipients: ['bob@shell1.isp.example'], dkim: 'pass', repairs: ['header section ended early; empty line inserted'], outcome: 'forwarded', reply: { code: 250, enhanced: '2.0.0' }, size: 1834, spam: false, ms: 6 },
  },
  'relay.outcome': {
    summary: 'relay: one recipient\'s outcome of one delivery attempt, as filed (a recipient deferred twice is two events)',
    fields: {
      queueId: 'the queue id', recipient: 'the recipient address', outcome: 'sent, deferred or bounced', remote: 'the next hop that answered (host[ip]:port), or null when the reply was made here',
      reply: 'the reply (the next hop\'s, or ours, e.g. "expired after …")', delayMs: 'milliseconds since the message was accepted',
    },
    example: { queueId: '01M8T7QR83A6AP7620', recipient: 'bob@example.net', outcome: 'sent', remote: 'smtp.isp.example[192.0.2.25]:25', reply: '250 2.0.0 Ok: queued as 4ZQ', delayMs: 35 },
  },
  'relay.attempt': {
    summary: 'relay: one transaction with a next hop (connecting included), by its least final outcome',
    fields: { queueId: 'the queue id', outcome: 'sent, deferred or bounced', ms: 'milliseconds the attempt took' },
    example: { queueId: '01M8T7QR83A6AP7620', outcome: 'sent', ms: 12 },
  },
  'edge.blocked': {
    summary: 'netpolicy edge endpoint: one blocked source of an edge\'s accepted report, after it is stored (blocked port-25 attempts)',
    fields: { edge: 'the edge the report\'s token names', source: 'the blocked source address (canonical)', packets: 'packets counted', destinations: 'distinct destinations counted' },
    example: { edge: 'bng1', source: '198.51.100.9', packets: 14, destinations: 3 },
  },
  'policy.changed': {
    summary: 'netpolicy PolicyStore (through its PolicyEvents hook): a policy change committed, with its audit record',
    fields: { action: 'what was done, e.g. pool.add, quarantine.add', object: 'what it was done to (a prefix, an address, an edge)', actor: 'who', reason: 'why' },
    example: { action: 'quarantine.add', object: '198.51.100.66', actor: 'abuse', reason: 'case 7' },
  },
  'edge.applied': {
    summary: 'netpolicy edge endpoint: an edge\'s report acknowledges the compiled policy it enforces (the version the server served)',
    fields: { edge: 'the edge the report\'s token names', version: 'the compiled policy\'s version (hash)', revision: 'the policy store\'s revision of that version' },
    example: { edge: 'bng1', version: '3f2a9c', revision: 42 },
  },
  'directory.assigned': {
    summary: 'directory: a subscriber began holding an address or prefix (static, RADIUS Start/Interim, a Kea lease, the API)',
    fields: { subscriber: 'the subscriber id', prefix: 'the canonical address or prefix', portLo: 'first port of a CGNAT port block, or null', portHi: 'last port of the block, or null', source: 'static, radius, kea or api', start: 'when it was handed out (ms since the epoch; RADIUS Event-Timestamp, not arrival)' },
    example: { subscriber: 'cust-1', prefix: '100.64.3.7', portLo: 2048, portHi: 4095, source: 'radius', start: 1764633600000 },
  },
  'directory.ended': {
    summary: 'directory: a subscriber stopped holding an address (RADIUS Stop, a lease expired or released, the API)',
    fields: { subscriber: 'the subscriber id', prefix: 'the canonical address or prefix', source: 'static, radius, kea or api', end: 'when it ended (ms since the epoch)' },
    example: { subscriber: 'cust-1', prefix: '100.64.3.7', source: 'radius', end: 1764637200000 },
  },
  'directory.source-record': {
    summary: 'directory sources: one accounting packet or record, or one lease row, taken (accepted), answered but not applied (refused) or not answered (dropped)',
    fields: { source: 'radius, detail or kea', outcome: 'accepted, refused or dropped', reason: 'why refused or dropped (unknown-client, bad-authenticator, malformed, user-name, unknown-subscriber, store-error…); empty when accepted' },
    example: { source: 'radius', outcome: 'dropped', reason: 'bad-authenticator' },
  },
  'abuse.report': {
    summary: 'abuse mailbox: an outside complaint (ARF or plain) was stored, with the source address and time it names',
    fields: { report: 'the stored report\'s id', kind: 'arf or plain', feedbackType: 'ARF Feedback-Type (abuse, fraud…), or null', source: 'the source address it blames, or null when none could be found', sourceFrom: 'where that address came from (Source-IP, X-Originating-IP, Received-SPF, Authentication-Results, Received, none)', at: 'when the reported message arrived (ms since the epoch); when the report does not say, when we received it', subscriber: 'who held the address then (null: nobody, several behind CGNAT with no port given, or no directory)', subject: 'the complaint\'s Subject as given (client text), or null' },
    example: { report: 'r7', kind: 'arf', feedbackType: 'abuse', source: '198.51.100.9', sourceFrom: 'Source-IP', at: 1764633600000, subscriber: 'cust-1', subject: 'Abuse report' },
  },
  'dnsbl.listed': {
    summary: 'abuse DNSBL check: an address of the provider\'s space is listed in a configured zone',
    fields: { address: 'the listed address', zone: 'the DNSBL zone', answer: 'the A record answered (127.0.0.x)', reason: 'the zone\'s TXT record for the address (the listing\'s reason, as the zone gives it), or null' },
    example: { address: '198.51.100.9', zone: 'xbl.dnsbl.example', answer: '127.0.0.4', reason: 'Listed in XBL, see https://dnsbl.example/query/198.51.100.9' },
  },
  'case.opened': {
    summary: 'abuse engine: a subscriber\'s first signal since its last case closed opened a case',
    fields: { case: 'the case id', subscriber: 'the subscriber id' },
    example: { case: 'c12', subscriber: 'cust-1' },
  },
  'case.decision': {
    summary: 'abuse engine: a rule fired, or the desk acted, on a case',
    fields: { case: 'the case id', subscriber: 'the subscriber id', decision: 'the decision id', action: 'notify, quarantine, suspend or revoke-exemption', rule: 'the rule\'s name (desk for a desk action)', until: 'when it lapses by itself (ms since the epoch), or null', immune: 'true: the subscriber\'s tier is immune to this action and nothing was enforced' },
    example: { case: 'c12', subscriber: 'cust-1', decision: 'd30', action: 'quarantine', rule: 'bot', until: 1764720000000, immune: false },
  },
  'case.enforced': {
    summary: 'abuse engine: an edge acknowledged a policy that contains a decision',
    fields: { case: 'the case id', decision: 'the decision id', edge: 'the edge', ms: 'milliseconds from the decision to the acknowledgement' },
    example: { case: 'c12', decision: 'd30', edge: 'bng1', ms: 420 },
  },
  'case.released': {
    summary: 'abuse engine: a case\'s actions were lifted and the previous policy restored',
    fields: { case: 'the case id', subscriber: 'the subscriber id', actor: 'who released it (the subscriber for a self release)', kind: 'desk, self or expired' },
    example: { case: 'c12', subscriber: 'cust-1', actor: 'desk:ann', kind: 'desk' },
  },
  'case.closed': {
    summary: 'abuse engine: a released case stayed quiet for abuse.closeAfterDays and was closed',
    fields: { case: 'the case id', subscriber: 'the subscriber id' },
    example: { case: 'c12', subscriber: 'cust-1' },
  },
  'notice.sent': {
    summary: 'abuse notices: a notice was committed to the spool for the relay to deliver, one message per contact',
    fields: { case: 'the case id', subscriber: 'the subscriber id', kind: 'notify, quarantine, suspend, revoke-exemption or released', queueIds: 'the queue id of each message' },
    example: { case: 'c12', subscriber: 'cust-1', kind: 'quarantine', queueIds: ['4Zx8kQ2mT1'] },
  },
  'notice.viewed': {
    summary: 'notice page: a page was shown to a subscriber (or to a visitor with no case)',
    fields: { case: 'the case shown, or null', via: 'token (the link in a notice), address (the garden client\'s source address) or none' },
    example: { case: 'c12', via: 'address' },
  },
  'notice.self-release': {
    summary: 'notice page: a subscriber asked to lift the restriction of their case themselves',
    fields: { case: 'the case id', subscriber: 'the subscriber id', outcome: 'released, refused (the case does not allow it now) or csrf (the form was stale or forged)' },
    example: { case: 'c12', subscriber: 'cust-1', outcome: 'released' },
  },
};
