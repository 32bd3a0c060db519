// The one config file. Data only: validated once at start, errors name the file
// and line. Relative paths are resolved against the config file's directory.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { anything, bool, int, list, obj, oneOf, str, type Issue, type Path } from './schema.ts';

const hostPort = str({ pattern: /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, hint: 'expected host:port, e.g. 127.0.0.1:10025 or [::1]:25' });

/** A `host:port` the schema accepted, split; an IPv6 host loses its brackets. */
export function splitHostPort(hp: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hp)!;
  return { host: m[1], port: Number(m[2]) };
}
const cidrHint = 'expected an address or CIDR prefix, e.g. 127.0.0.0/8 or ::1/128';
const cidr = str({ pattern: /^[0-9A-Fa-f:.]+(?:\/\d{1,3})?$/, hint: cidrHint });
/** The pattern admits the characters; this admits only a real address and a length its family allows. */
const cidrOk = (c: string): boolean => {
  const [net, len] = c.split('/');
  const f = isIP(net);
  return f !== 0 && (len === undefined || Number(len) <= (f === 4 ? 32 : 128));
};
const hostname = str({ pattern: /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, hint: 'expected a host name' });

const listenerLimits = { maxConnections: 1000, maxConnectionsPerIp: 10, maxConnectionsPerNetwork: 50, ipv4NetworkPrefix: 24, ipv6NetworkPrefix: 64 };

const listener = obj({
  name: str({ pattern: /^[a-z][a-z0-9-]*$/, hint: 'lower-case letters, digits, dashes' }),
  host: str().default('127.0.0.1'),
  port: int({ min: 0, max: 65535 }),
  tls: oneOf(['none', 'starttls', 'implicit'] as const),
  /** Require TLS before anything but EHLO/STARTTLS (587). Defaults to true for starttls listeners. */
  requireTls: bool().optional(),
  bareLf: oneOf(['reject', 'normalize'] as const).default('reject'),
  maxConnections: int({ min: 1 }).default(1000),
  /** A household or office behind one NAT address: a few mail clients, each one or two connections. */
  maxConnectionsPerIp: int({ min: 1 }).default(10),
  /** Per IPv4 /24 or IPv6 /64 (ipv4NetworkPrefix / ipv6NetworkPrefix): one host spreading over its neighbours' addresses, or one IPv6 subscriber rotating addresses. */
  maxConnectionsPerNetwork: int({ min: 1 }).default(50),
  ipv4NetworkPrefix: int({ min: 8, max: 32 }).default(24),
  ipv6NetworkPrefix: int({ min: 16, max: 128 }).default(64),
});

export const schema = obj({
  hostname: hostname.default('localhost'),
  dataDir: str().default('./data'),
  /** Where accounts, policy and attribution live: sqlite (<dataDir>/state.db) or postgres (storeUrl; every node of a fleet on one database). */
  store: oneOf(['sqlite', 'postgres'] as const).default('sqlite'),
  /** postgres://user[:password]@host[:port]/db (or ?host=/unix/socket/dir); without a password in it, PGPASSWORD is used. */
  storeUrl: str({ pattern: /^postgres(ql)?:\/\//, hint: 'expected a postgres:// URL' }).optional(),
  listeners: list(listener, { min: 1 }).default([
    { name: 'submission', host: '127.0.0.1', port: 2587, tls: 'starttls', requireTls: undefined, bareLf: 'reject', ...listenerLimits },
    { name: 'submissions', host: '127.0.0.1', port: 2465, tls: 'implicit', requireTls: undefined, bareLf: 'reject', ...listenerLimits },
  ]),
  tls: obj({
    /** PEM files; when both are absent a self-signed ECDSA P-256 certificate is generated under dataDir/tls on first start. */
    cert: str().optional(),
    key: str().optional(),
  }).default({ cert: undefined, key: undefined }),
  smtp: obj({
    maxMessageSize: int({ min: 1024 }).default(36_700_160),
    maxRecipients: int({ min: 100 }).default(100),
    /** Seconds idle between commands once authenticated (RFC 5321 §4.5.3.2.7: at least 300). */
    idleTimeout: int({ min: 1 }).default(300),
    maxSessionTime: int({ min: 1 }).default(3600),
    /** Before AUTH: idle seconds, and seconds from connect until AUTH must have succeeded. */
    preAuthIdleTimeout: int({ min: 1 }).default(60),
    preAuthSessionTime: int({ min: 1 }).default(120),
    /** Octets of unread replies after which a pipelining client is no longer read (dropped when they do not drain within the idle timeout). */
    maxReplyBacklog: int({ min: 16_384 }).default(131_072),
    maxErrors: int({ min: 1 }).default(20),
    smtputf8: bool().default(true),
    chunking: bool().default(true),
  }).default({ maxMessageSize: 36_700_160, maxRecipients: 100, idleTimeout: 300, maxSessionTime: 3600, preAuthIdleTimeout: 60, preAuthSessionTime: 120, maxReplyBacklog: 131_072, maxErrors: 20, smtputf8: true, chunking: true }),
  submission: obj({
    /** Shown in 525 5.7.13 and limit replies: where a customer reads what happened. */
    helpUrl: str().default('https://portal.isp.example/mail-help'),
    malformedHeaderAction: oneOf(['fix_quietly', 'add_header', 'reject'] as const).default('add_header'),
    /** RFC 6409 §6.4: let unauthenticated sessions reach postmaster@ these domains. */
    postmasterDomains: list(hostname).default([]),
    /** Messages per client address (IPv4 /32, IPv6 /64) through the postmaster exception per `per` seconds. */
    postmasterRate: obj({ limit: int({ min: 1 }).default(10), per: int({ min: 1 }).default(3600) }).default({ limit: 10, per: 3600 }),
    /** Postfix hopcount_limit: more Received fields than this (ours included) is a mail loop, 554 5.4.6. */
    maxReceived: int({ min: 1, max: 1000 }).default(50),
    /** Checked before any address is parsed: octets of one address field, address fields per message (552 5.3.4). */
    maxAddressFieldBytes: int({ min: 1024, max: 102_400 }).default(32_768),
    maxAddressFields: int({ min: 1, max: 1000 }).default(50),
  }).default({
    helpUrl: 'https://portal.isp.example/mail-help', malformedHeaderAction: 'add_header', postmasterDomains: [],
    postmasterRate: { limit: 10, per: 3600 }, maxReceived: 50, maxAddressFieldBytes: 32_768, maxAddressFields: 50,
  }),
  relay: obj({
    /** smarthost: everything to one next hop; mx: direct delivery by DNS (MX, then A/AAAA; null MX honoured). */
    mode: oneOf(['smarthost', 'mx'] as const).default('smarthost'),
    smarthost: hostPort.optional(),
    /** MX mode: connections per destination domain. */
    perDomain: int({ min: 1, max: 1000 }).default(20),
    /** RFC 3464 delay warning after this many seconds in the queue (0: never). */
    delayWarning: int({ min: 0 }).default(4 * 3600),
    /** Default opportunistic, or required when user/password are set (anything else is then refused). */
    tls: oneOf(['none', 'opportunistic', 'required'] as const).default('opportunistic'),
    /** Default false, or true when user/password are set (false is then refused). */
    verifyCertificate: bool().default(false),
    /** PEM CA certificate(s) the smarthost's certificate is verified against instead of the system's (an internal CA). */
    caFile: str().optional(),
    /** AUTH to the smarthost; sent only inside STARTTLS with a verified certificate. */
    user: str().optional(),
    password: str().optional(),
    /** MX mode, for labs only: connect to loopback/private/non-public addresses and accept address-literal recipients. */
    allowPrivateDestinations: bool().default(false),
    concurrency: int({ min: 1, max: 1000 }).default(10),
    retrySchedule: list(int({ min: 1 })).default([60, 300, 900, 1800, 3600]),
    maxQueueLifetime: int({ min: 60 }).default(5 * 86400),
  }),
  /** Authentication (README "Authentication"). */
  auth: obj({
    /** PBKDF2 count for new SCRAM-SHA-256 keys and the fake ones of unknown users (RFC 7677: ≥ 4096). */
    scramIterations: int({ min: 4096, max: 10_000_000 }).default(100_000),
    /** After a correct PLAIN/LOGIN password, replace an imported or weaker hash with argon2id (logged as auth-rehash). */
    rehashOnLogin: bool().default(true),
    /** Every failed AUTH takes at least this long (ms), whatever the hash type or whether the account exists. */
    failureFloorMs: int({ min: 0, max: 10_000 }).default(250),
    /** Password hash computations at once (0: min(3, max(2, cores − 1))), and how many more may wait before 454 4.7.0. */
    hashConcurrency: int({ min: 0, max: 64 }).default(0),
    hashQueue: int({ min: 1, max: 100_000 }).default(200),
    /** Import limits: what one stored hash may cost per login. */
    maxBcryptCost: int({ min: 4, max: 31 }).default(13),
    maxCryptRounds: int({ min: 1000, max: 999_999_999 }).default(200_000),
  }).default({ scramIterations: 100_000, rehashOnLogin: true, failureFloorMs: 250, hashConcurrency: 0, hashQueue: 200, maxBcryptCost: 13, maxCryptRounds: 200_000 }),
  /** Sending limits (issue 4). The rule data is validated by the limits part; errors still name the line. */
  limits: obj({
    enabled: bool().default(true),
    store: oneOf(['memory', 'redis'] as const).default('memory'),
    redisUrl: str().default('redis://127.0.0.1:6379'),
    failMode: oneOf(['open', 'closed'] as const).default('open'),
    tiers: anything<Record<string, unknown[]>>().optional(),
    global: anything<unknown[]>().optional(),
    defaultTier: str().optional(),
    overrides: anything<Record<string, unknown>>().optional(),
    ipv4Prefix: int({ min: 8, max: 32 }).optional(),
    ipv6Prefix: int({ min: 16, max: 128 }).optional(),
    /** Failed-AUTH defence: networks never throttled (webmail, monitoring). */
    trustedNetworks: list(str()).default([]),
    /** Delay before the nth failed-AUTH reply (the last repeats); default 0, 0, 1 s, 2 s, 4 s… */
    authFailureDelaysMs: list(int({ min: 0, max: 60_000 })).optional(),
    /** Failed-AUTH rules (ip, prefix, prefix56, prefix48, account, lockoutMs, knownPrefixDays…); checked by the limits part. */
    bruteForce: anything<Record<string, unknown>>().optional(),
  }).default({ authFailureDelaysMs: undefined, bruteForce: undefined, enabled: true, store: 'memory', redisUrl: 'redis://127.0.0.1:6379', failMode: 'open', tiers: undefined, global: undefined, defaultTier: undefined, overrides: undefined, ipv4Prefix: undefined, ipv6Prefix: undefined, trustedNetworks: [] }),
  /** Submission accounts made with `portwarden account add|passwd` (imported hashes keep their passwords). */
  accounts: obj({ minPasswordLength: int({ min: 1, max: 128 }).default(12) }).default({ minPasswordLength: 12 }),
  // batchMs: attribution rows are written in one transaction per batchMs (a crash loses at most that much of the log).
  accountability: obj({ retentionDays: int({ min: 1 }).default(180), batchMs: int({ min: 0, max: 5000 }).default(50) }).default({ retentionDays: 180, batchMs: 50 }),
  /** The hourly statistics of the console's charts and `stats.series`: kept retentionDays, written every flushMs, the queue sampled every queueSampleMs. */
  stats: obj({
    retentionDays: int({ min: 1, max: 3660 }).default(400), flushMs: int({ min: 100, max: 60_000 }).default(5000),
    queueSampleMs: int({ min: 10_000, max: 3_600_000 }).default(300_000),
  }).default({ retentionDays: 400, flushMs: 5000, queueSampleMs: 300_000 }),
  /** Prometheus /metrics on this address (off when absent). */
  metrics: obj({ listen: hostPort.optional() }).default({ listen: undefined }),
  /** Postfix policy delegation service on this address (off when absent). */
  policyService: obj({
    listen: hostPort.optional(),
    /** Clients from other networks are closed at accept: the service tells who is locked out and who is over a limit. */
    allow: list(cidr, { min: 1 }).default(['127.0.0.0/8', '::1/128']),
    maxConnections: int({ min: 1 }).default(200),
  }).default({ listen: undefined, allow: ['127.0.0.0/8', '::1/128'], maxConnections: 200 }),
  /** DKIM keys (RFC 6376): mail whose From domain has a key is signed last, as it is relayed. */
  dkim: list(obj({
    domain: hostname,
    selector: str({ pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/, hint: 'a DNS label' }),
    /** PEM private key, e.g. as written by `portwarden dkim keygen`. */
    keyFile: str(),
    algorithm: oneOf(['rsa-sha256', 'ed25519-sha256'] as const).default('rsa-sha256'),
    /** Also sign for subdomains of `domain` (d= stays the parent). */
    subdomains: bool().default(false),
  })).default([]),
  /** The edge agents' pull endpoint, HTTPS with the server's certificate (`policy agent --url https://HOST:PORT/v1/netpolicy`); off when absent. */
  netpolicy: obj({
    listen: hostPort.optional(),
    /** "EDGE-NAME TOKEN" per line: each token is bound to the one edge that may use it. */
    tokenFile: str().optional(),
    /** Largest report body (413 beyond); 10,000 sources, what an agent sends at most, take ~0.6 MiB. */
    maxReportBytes: int({ min: 1024 }).default(1024 * 1024),
    /** Most blocked-source entries in one report (413 beyond). */
    maxReportEntries: int({ min: 1 }).default(10_000),
    /** Blocked-attempt counters an edge has not refreshed for this long are deleted. */
    reportRetentionDays: int({ min: 1 }).default(7),
    maxConnections: int({ min: 1 }).default(64),
  }).default({ listen: undefined, tokenFile: undefined, maxReportBytes: 1024 * 1024, maxReportEntries: 10_000, reportRetentionDays: 7, maxConnections: 64 }),
  /** The admin API (/api/v1, token-authenticated), HTTPS with the server's certificate unless tls: false (plain, for loopback use); off when absent. */
  api: obj({
    listen: hostPort.optional(),
    tls: bool().default(true),
    maxConnections: int({ min: 1 }).default(64),
    /** Largest request body (413 beyond). */
    bodyLimit: int({ min: 1024, max: 16 * 1024 * 1024 }).default(64 * 1024),
  }).default({ listen: undefined, tls: true, maxConnections: 64, bodyLimit: 64 * 1024 }),
  /** The subscriber portal (docs/portal.md): setup guides, "Am I blocked?", exemption requests; HTTPS with the server's certificate on listen (off when absent). */
  portal: obj({
    listen: hostPort.optional(),
    /** The portal's public address as subscribers reach it (links in notices and guides); https://<hostname>/ when absent. */
    publicUrl: str().optional(),
    maxConnections: int({ min: 1 }).default(256),
    /** Reverse proxies in front of the portal (networks): only from them is X-Forwarded-For believed, and then its right-most address outside them ("Am I blocked?" asks about the subscriber's own address). */
    trustedProxies: list(cidr).default([]),
    /** A subscriber's portal session ends this many hours after sign-in, however busy. */
    sessionHours: int({ min: 1, max: 24 * 30 }).default(12),
    /** …and after this many minutes without a request. */
    idleMinutes: int({ min: 1, max: 24 * 60 }).default(30),
  }).default({ listen: undefined, publicUrl: undefined, maxConnections: 256, trustedProxies: [], sessionHours: 12, idleMinutes: 30 }),
  /** Port-25 exemption requests (docs/exemptions.md): the automatic checks the desk sees, the grant's bounds, the renewal offer. */
  exemptions: obj({
    /** Tiers that may ask (the subscriber's tier in the directory, else the account's). */
    tiers: list(str()).default(['premium', 'business']),
    /** The account must be at least this old. */
    minAccountAgeDays: int({ min: 0 }).default(30),
    /** No abuse case opened in this many days, and none open. */
    caseFreeDays: int({ min: 0 }).default(90),
    /** Resolvers for the reverse and forward DNS check ("host:port" or an address); the system's when empty. */
    resolvers: list(str()).default([]),
    /** The longest grant the desk may give. */
    maxDays: int({ min: 1, max: 3650 }).default(365),
    /** A grant this many days from its end is offered for renewal (state renewal-offered, a notice to the contacts). */
    renewBeforeDays: int({ min: 1 }).default(14),
    /** How often the sweep marks expired grants and makes renewal offers. */
    sweepMinutes: int({ min: 1, max: 24 * 60 }).default(60),
  }).default({ tiers: ['premium', 'business'], minAccountAgeDays: 30, caseFreeDays: 90, resolvers: [], maxDays: 365, renewBeforeDays: 14, sweepMinutes: 60 }),
  /** The staff console (docs/console.md): HTTPS with the server's certificate on listen (off when absent); staff users are `portwarden staff`'s. */
  console: obj({
    listen: hostPort.optional(),
    maxConnections: int({ min: 1 }).default(64),
    /** A session ends this long after its sign-in, used or not. */
    sessionHours: int({ min: 1, max: 24 * 7 }).default(12),
    /** A session ends after this long without a request. */
    idleMinutes: int({ min: 1, max: 24 * 60 }).default(30),
    /** Failed sign-ins (password or code) of one name before the name is locked. */
    lockoutAttempts: int({ min: 1, max: 100 }).default(5),
    /** Failed sign-ins from one client address, whatever the names, before the address is locked. */
    addressAttempts: int({ min: 1, max: 10_000 }).default(20),
    /** How long a lock lasts; also the window in which failures are counted. */
    lockoutMinutes: int({ min: 1, max: 24 * 60 }).default(15),
  }).default({ listen: undefined, maxConnections: 64, sessionHours: 12, idleMinutes: 30, lockoutAttempts: 5, addressAttempts: 20, lockoutMinutes: 15 }),
  /** Mail client autoconfig (docs/autoconfig.md): Thunderbird/K-9 config-v1.1.xml, Outlook autodiscover, for these domains only; plain HTTP on listen (off when absent). */
  autoconfig: obj({
    listen: hostPort.optional(),
    /** The mail domains the provider hosts; any other is answered 404. */
    domains: list(hostname).default([]),
    /** The submission server's public name, what clients are told to connect to; hostname when absent. */
    server: hostname.optional(),
    /** Public ports clients connect to (the listeners may sit behind a NAT or port redirect on other ports). */
    starttlsPort: int({ min: 1, max: 65535 }).default(587),
    tlsPort: int({ min: 1, max: 65535 }).default(465),
    /** The provider's name as clients show it; the server name when absent. */
    displayName: str({ pattern: /^[^\x00-\x1f\x7f]{1,64}$/, hint: 'up to 64 printable characters' }).optional(),
    /** The mailbox servers (someone else's: portwarden hosts none) clients are told about too; Thunderbird refuses an answer without one. */
    incoming: list(obj({
      type: oneOf(['imap', 'pop3'] as const),
      hostname,
      port: int({ min: 1, max: 65535 }),
      socketType: oneOf(['SSL', 'STARTTLS'] as const),
    })).default([]),
    /** PEM certificate (then its chain) that signs the Apple mail profile (/mobileconfig); the node's TLS certificate (tls.cert, or the generated one) when absent. */
    profileCert: str().optional(),
    /** PEM private key of profileCert (required with it); the node's TLS key when profileCert is absent. */
    profileKey: str().optional(),
    /** PEM intermediate certificates sent with the profile's signature, after any in profileCert. */
    profileChain: str().optional(),
    maxConnections: int({ min: 1 }).default(256),
  }).default({ listen: undefined, domains: [], server: undefined, starttlsPort: 587, tlsPort: 465, displayName: undefined, incoming: [], profileCert: undefined, profileKey: undefined, profileChain: undefined, maxConnections: 256 }),
  /** The subscriber directory: who held which address when (README "Abuse"). */
  directory: obj({
    /** Assignments that ended longer ago than this are deleted (RFC 6302 retention: what an abuse report can still ask about). */
    retentionDays: int({ min: 1 }).default(400),
    /** RADIUS accounting server (UDP) on this address; off when absent. */
    radiusListen: hostPort.optional(),
    /** "CLIENT-ADDRESS-OR-PREFIX SECRET" per line: the NASes allowed to send accounting, each with its shared secret; mode 0600 or 0640 (start refuses a file others can read). */
    radiusSecretFile: str().optional(),
    /** FreeRADIUS detail files (radacct) to follow. */
    detailFiles: list(str()).default([]),
    /** Kea DHCPv4/DHCPv6 memfile lease files (CSV) to follow. */
    keaLeaseFiles: list(str()).default([]),
    /** How often followed files are read for new lines (ms). */
    pollMs: int({ min: 50, max: 60_000 }).default(1000),
  }).default({ retentionDays: 400, radiusListen: undefined, radiusSecretFile: undefined, detailFiles: [], keaLeaseFiles: [], pollMs: 1000 }),
  /** The abuse lifecycle: signals → cases → decisions → notices → release (README "Abuse"; docs/abuse.md has the defaults and why). */
  abuse: obj({
    enabled: bool().default(true),
    /** The case score halves after this many minutes without signals. */
    halfLifeMinutes: int({ min: 1 }).default(360),
    /** A released case with no new signal for this long is closed. */
    closeAfterDays: int({ min: 1 }).default(14),
    /** Per signal class: its weight per unit (checked by the abuse part against its class list). */
    classes: anything<Record<string, unknown>>().optional(),
    /** The rules (name, classes, threshold, window, action, duration, escalation, maxDuration, grace, selfReleases, immuneTiers); the defaults of docs/abuse.md when absent. */
    rules: anything<unknown[]>().optional(),
    /** Signals waiting to be joined to subscribers; beyond this they are dropped and counted. */
    queueSize: int({ min: 1000 }).default(200_000),
    /** The abuse mailbox: SMTP on this address accepting ARF and plain complaints; off when absent. */
    mailbox: obj({
      listen: hostPort.optional(),
      /** Recipient domains accepted (abuse@ any of them, RFC 2142); empty: any recipient. */
      domains: list(hostname).default([]),
      maxReportBytes: int({ min: 1024, max: 64 * 1024 * 1024 }).default(10 * 1024 * 1024),
    }).default({ listen: undefined, domains: [], maxReportBytes: 10 * 1024 * 1024 }),
    /** DNSBL zones queried for the provider's own addresses in use. */
    dnsbl: obj({
      zones: list(hostname).default([]),
      /** Resolvers to ask ("host:port"); the system's when empty. */
      servers: list(str()).default([]),
      intervalMinutes: int({ min: 1 }).default(60),
    }).default({ zones: [], servers: [], intervalMinutes: 60 }),
    /** Notices to subscribers, through portwarden's own spool and relay. */
    notices: obj({
      from: str().default('abuse@localhost'),
      /** Templates (one file per action: quarantine.txt, suspend.txt, notify.txt, revoke-exemption.txt, released.txt, exemption-renewal.txt); built-in ones when absent. */
      templateDir: str().optional(),
      /** The notice page's public URL; links carry a signed token that expires after tokenTtlHours. */
      pageUrl: str().default('https://portal.isp.example/notice'),
      tokenTtlHours: int({ min: 1, max: 24 * 90 }).default(24 * 14),
    }).default({ from: 'abuse@localhost', templateDir: undefined, pageUrl: 'https://portal.isp.example/notice', tokenTtlHours: 24 * 14 }),
    /** The walled garden's notice server (HTTP, where the edge redirects a quarantined host's web traffic); off when absent. */
    noticeListen: hostPort.optional(),
  }).default({
    enabled: true, halfLifeMinutes: 360, closeAfterDays: 14, classes: undefined, rules: undefined, queueSize: 200_000,
    mailbox: { listen: undefined, domains: [], maxReportBytes: 10 * 1024 * 1024 }, dnsbl: { zones: [], servers: [], intervalMinutes: 60 },
    notices: { from: 'abuse@localhost', templateDir: undefined, pageUrl: 'https://portal.isp.example/notice', tokenTtlHours: 24 * 14 }, noticeListen: undefined,
  }),
  log: obj({
    level: oneOf(['debug', 'info', 'warn', 'error'] as const).default('info'),
    /** Log to this file instead of stdout; reopened on SIGHUP (logrotate). */
    file: str().optional(),
    /** Also send each line to a syslog collector: udp://host:port (RFC 5424 over UDP). */
    syslog: str({ pattern: /^udp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, hint: 'expected udp://host:port' }).optional(),
  }).default({ level: 'info', file: undefined, syslog: undefined }),
});

export type Config = NonNullable<ReturnType<typeof schema.check>>;
export type ListenerConfig = Config['listeners'][number];

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Parses and validates config text; `file` names the source in errors. */
export function parseConfig(text: string, file: string): Config {
  return parseConfigWithSource(text, file).config;
}

/** Also returns `where(path)`: "file:line:col" of a config path, for errors found by later stages. */
export function parseConfigWithSource(text: string, file: string): { config: Config; where(path: Path): string } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) throw new ConfigError(doc.errors.map((e) => `${where(e.pos[0])}: ${e.message.split('\n')[0]}`));
  const issues: Issue[] = [];
  const value = schema.check(doc.toJS() ?? {}, [], issues);
  if (issues.length || !value) {
    throw new ConfigError(issues.map((i) => `${where(locate(doc, i.path))}: ${i.path.join('.') || '(top)'}: ${i.message}`));
  }
  const base = dirname(resolve(file));
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  value.dataDir = abs(value.dataDir);
  if (value.tls.cert) value.tls.cert = abs(value.tls.cert);
  if (value.tls.key) value.tls.key = abs(value.tls.key);
  const cross: string[] = [];
  if (value.store === 'postgres' && !value.storeUrl) cross.push(`${where(locate(doc, ['store']))}: store: postgres needs storeUrl (postgres://user@host/db)`);
  if (!!value.tls.cert !== !!value.tls.key) cross.push(`${where(locate(doc, ['tls']))}: tls: give both cert and key, or neither (to generate a self-signed pair)`);
  const names = new Set<string>();
  value.listeners.forEach((l, i) => {
    if (names.has(l.name)) cross.push(`${where(locate(doc, ['listeners', i, 'name']))}: listeners.${i}.name: duplicate listener name "${l.name}"`);
    names.add(l.name);
    if (l.tls === 'none' && l.requireTls) cross.push(`${where(locate(doc, ['listeners', i, 'requireTls']))}: listeners.${i}: requireTls needs tls: starttls`);
  });
  for (const k of value.dkim) k.keyFile = abs(k.keyFile);
  if (value.netpolicy.tokenFile) value.netpolicy.tokenFile = abs(value.netpolicy.tokenFile);
  if (value.api.listen && !value.api.tls && !/^(127\.[\d.]+|\[::1\]|localhost):\d+$/.test(value.api.listen)) {
    cross.push(`${where(locate(doc, ['api', 'tls']))}: api: tls: false is for a loopback address only (tokens would cross the network in clear)`);
  }
  if (value.netpolicy.listen && !value.netpolicy.tokenFile) cross.push(`${where(locate(doc, ['netpolicy']))}: netpolicy: listen needs a tokenFile`);
  value.portal.trustedProxies.forEach((c, i) => {
    if (!cidrOk(c)) cross.push(`${where(locate(doc, ['portal', 'trustedProxies', i]))}: portal.trustedProxies.${i}: invalid value ${JSON.stringify(c)}: ${cidrHint}`);
  });
  value.policyService.allow.forEach((c, i) => {
    if (!cidrOk(c)) cross.push(`${where(locate(doc, ['policyService', 'allow', i]))}: policyService.allow.${i}: invalid value ${JSON.stringify(c)}: ${cidrHint}`);
  });
  if (value.relay.mode === 'smarthost' && !value.relay.smarthost) cross.push(`${where(locate(doc, ['relay']))}: relay: smarthost mode needs relay.smarthost (host:port)`);
  if (!!value.relay.user !== !!value.relay.password) cross.push(`${where(locate(doc, ['relay']))}: relay: give both user and password, or neither`);
  if (value.relay.caFile) value.relay.caFile = abs(value.relay.caFile);
  if (value.directory.radiusSecretFile) value.directory.radiusSecretFile = abs(value.directory.radiusSecretFile);
  value.directory.detailFiles = value.directory.detailFiles.map(abs);
  value.directory.keaLeaseFiles = value.directory.keaLeaseFiles.map(abs);
  cross.push(...relayCredentialRules(value.relay, doc, where));
  if (cross.length) throw new ConfigError(cross);
  return { config: value, where: (path) => where(locate(doc, path)) };
}

/**
 * Credentials for the next hop travel only inside TLS whose certificate is
 * verified: with user/password, tls and verifyCertificate default to required
 * and true, and a config that says otherwise is refused rather than quietly
 * overridden, so that what the file says is what runs.
 */
function relayCredentialRules(relay: Config['relay'], doc: ReturnType<typeof parseDocument>, where: (offset: number | undefined) => string): string[] {
  const at = (key: string): string => `${where(locate(doc, ['relay', key]))}: relay.${key}`;
  // Direct delivery has no way to authenticate a destination's certificate (no MTA-STS or DANE
  // here), so "required" would quietly run as opportunistic: refuse what would not be done.
  if (relay.mode === 'mx' && relay.tls === 'required') {
    return [`${at('tls')}: mx mode supports none or opportunistic STARTTLS; "required" needs MTA-STS or DANE, which portwarden does not implement`];
  }
  if (!relay.user) return [];
  if (relay.mode === 'mx') return [`${at('user')}: credentials are for a smarthost; mx mode never authenticates (use smarthost mode)`];
  const out: string[] = [];
  if (!doc.hasIn(['relay', 'tls'])) relay.tls = 'required';
  else if (relay.tls !== 'required') out.push(`${at('tls')}: must be "required" when relay credentials are set (they would go out without TLS)`);
  if (!doc.hasIn(['relay', 'verifyCertificate'])) relay.verifyCertificate = true;
  else if (!relay.verifyCertificate) out.push(`${at('verifyCertificate')}: must be true when relay credentials are set (an unverified hop could be anyone; give caFile for an internal CA)`);
  return out;
}

export function loadConfig(file: string): Config {
  return loadConfigWithSource(file).config;
}

export function loadConfigWithSource(file: string): ReturnType<typeof parseConfigWithSource> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read: ${(err as Error).message}`]);
  }
  return parseConfigWithSource(text, file);
}

/** The source offset for a path: the node itself, else the nearest ancestor that exists. */
function locate(doc: ReturnType<typeof parseDocument>, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      // For a missing key, point at the mapping that lacks it.
      return node.range[0];
    }
  }
  return undefined;
}
