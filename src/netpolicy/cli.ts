// `portwarden policy …`: the operator's view of the network policy. Commands
// dispatch from one table; each parses its own options and answers with an exit
// code (0 ok, 1 refused or failed, 2 usage).
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { systemClock, terminalJson, visible, type Clock, type Logger } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { compileIos, compileIptables, compileJunos } from './acl.ts';
import { PolicyAgent, agentBaseUrl } from './agent.ts';
import { NftApplier, nftRunner } from './apply.ts';
import { parsePin } from './client.ts';
import { EDGE_NAME } from './http.ts';
import { compilePolicy, diffSets } from './compile.ts';
import { ACTIONS, GARDEN_PROTOS, POOL_CLASSES, RELAY_KINDS, isOneOf, type EdgeSettings, type Result } from './model.ts';
import { compileNft } from './nft.ts';
import { compileRbldnsd } from './rbldnsd.ts';
import { PolicyStore, type Change } from './store.ts';
import type { PolicyPort } from './port.ts';

export interface PolicyCommandContext {
  store: Store;
  logger: Logger;
  out: (s: string) => void;
  err: (s: string) => void;
  clock?: Clock;
  /** Default for --by; the OS user otherwise. */
  actor?: string;
  /** Stops `policy agent`; the CLI wires SIGINT/SIGTERM to it. */
  signal?: AbortSignal;
  /**
   * Where the commands read and change the policy; default the PolicyStore on `store`. The
   * portwarden CLI passes the application layer's policy operations here (audited, scoped);
   * `apply` and `agent` always work on the store itself.
   */
  port?: PolicyPort;
}

type Opts = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;
interface Cmd { usage: string; options: Opts; run(a: string[], v: Values, c: Ctx): Promise<number> | number }
interface Ctx extends PolicyCommandContext { policy: PolicyPort; clock: Clock }

const change: Opts = { reason: { type: 'string' }, by: { type: 'string' } };
const s = (v: Values, k: string): string => (typeof v[k] === 'string' ? (v[k] as string) : '');

function who(v: Values, c: Ctx): Change {
  return { actor: s(v, 'by') || c.actor || userInfo().username, reason: s(v, 'reason') };
}

async function done(p: Promise<Result<unknown>>, c: Ctx, what: string): Promise<number> {
  const r = await p;
  if (!r.ok) { c.err(`policy: ${r.error}\n`); return 1; }
  c.out(`${what}\n`);
  return 0;
}

/** "30d", "12h", "45m", or an ISO 8601 instant. */
function parseExpiry(text: string, now: number): number | null {
  const m = /^(\d+)([dhm])$/.exec(text);
  if (m) return now + Number(m[1]) * ({ d: 86_400_000, h: 3_600_000, m: 60_000 } as const)[m[2] as 'd' | 'h' | 'm'];
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** Columns padded to width; every cell through visible(), so a newline in a note or an escape in an edge's report stays inside its cell. */
function table(cells: string[][]): string {
  if (!cells.length) return '';
  const rows = cells.map((r) => r.map((x) => visible(x ?? '')));
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((x, i) => (i === r.length - 1 ? x : x.padEnd(w[i]))).join('  ')).join('\n') + '\n';
}
const iso = (t: number | null): string => (t === null ? 'never' : new Date(t).toISOString());

const commands: Record<string, Cmd> = {
  'pool add': {
    usage: 'policy pool add <prefix> --class dynamic|static|business|cgnat [--note T] --reason R [--by WHO]',
    options: { class: { type: 'string' }, note: { type: 'string' }, ...change },
    run: ([prefix], v, c) => {
      const cls = s(v, 'class');
      if (!prefix || !isOneOf(POOL_CLASSES, cls)) return -1;
      return done(c.policy.addPool(prefix, cls, s(v, 'note'), who(v, c)), c, `pool ${prefix} (${cls}) added`);
    },
  },
  'pool remove': { usage: 'policy pool remove <prefix> --reason R', options: change, run: ([p], v, c) => (p ? done(c.policy.removePool(p, who(v, c)), c, `pool ${p} removed`) : -1) },
  'pool list': {
    usage: 'policy pool list [--json]', options: { json: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.listPools(), (p) => [p.prefix, p.class, p.note], ['PREFIX', 'CLASS', 'NOTE']),
  },
  'relay add': {
    usage: 'policy relay add <prefix> --kind provider|customer [--customer ID] [--note T] --reason R',
    options: { kind: { type: 'string' }, customer: { type: 'string' }, note: { type: 'string' }, ...change },
    run: ([prefix], v, c) => {
      const kind = s(v, 'kind') || 'provider';
      if (!prefix || !isOneOf(RELAY_KINDS, kind)) return -1;
      return done(c.policy.addRelay(prefix, kind, s(v, 'customer'), s(v, 'note'), who(v, c)), c, `relay ${prefix} (${kind}) added`);
    },
  },
  'relay remove': { usage: 'policy relay remove <prefix> --reason R', options: change, run: ([p], v, c) => (p ? done(c.policy.removeRelay(p, who(v, c)), c, `relay ${p} removed`) : -1) },
  'relay list': {
    usage: 'policy relay list [--json]', options: { json: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.listRelays(), (r) => [r.prefix, r.kind, r.customer, r.note], ['PREFIX', 'KIND', 'CUSTOMER', 'NOTE']),
  },
  'exempt add': {
    usage: 'policy exempt add <prefix> --customer ID --reason R [--expires 30d|ISO-8601] [--by WHO]',
    options: { customer: { type: 'string' }, expires: { type: 'string' }, ...change },
    run: ([prefix], v, c) => {
      if (!prefix) return -1;
      let expires: number | null = null;
      if (s(v, 'expires')) {
        expires = parseExpiry(s(v, 'expires'), c.clock.now());
        if (expires === null) { c.err('policy: --expires takes 30d, 12h, 45m or an ISO 8601 time\n'); return 2; }
      }
      return done(c.policy.addExemption(prefix, s(v, 'customer'), expires, who(v, c)), c, `exemption for ${prefix} granted until ${iso(expires)}`);
    },
  },
  'exempt remove': { usage: 'policy exempt remove <prefix> --reason R', options: change, run: ([p], v, c) => (p ? done(c.policy.removeExemption(p, who(v, c)), c, `exemption for ${p} revoked`) : -1) },
  'exempt list': {
    usage: 'policy exempt list [--all] [--json]   (--all includes expired ones)', options: { json: { type: 'boolean' }, all: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.listExemptions(v.all === true),
      (e) => [String(e.id), e.prefix, e.customer, e.grantedBy, iso(e.grantedAt), iso(e.expiresAt), e.reason],
      ['ID', 'PREFIX', 'CUSTOMER', 'BY', 'GRANTED', 'EXPIRES', 'REASON']),
  },
  'quarantine add': {
    usage: 'policy quarantine add <prefix> --subscriber ID [--case ID] --reason R',
    options: { subscriber: { type: 'string' }, case: { type: 'string' }, ...change },
    run: ([p], v, c) => (p ? done(c.policy.quarantine(p, s(v, 'subscriber'), s(v, 'case'), who(v, c)), c, `${p} quarantined`) : -1),
  },
  'quarantine remove': { usage: 'policy quarantine remove <prefix> --reason R', options: change, run: ([p], v, c) => (p ? done(c.policy.release(p, who(v, c)), c, `${p} released`) : -1) },
  'quarantine list': {
    usage: 'policy quarantine list [--json]', options: { json: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.listQuarantines(), (q) => [q.prefix, q.subscriber, q.caseId, q.by, iso(q.since), q.reason],
      ['PREFIX', 'SUBSCRIBER', 'CASE', 'BY', 'SINCE', 'REASON']),
  },
  'garden add': {
    usage: 'policy garden add <prefix> --proto tcp|udp|both --ports 53|80,443|8000-8100 [--note T] --reason R',
    options: { proto: { type: 'string' }, ports: { type: 'string' }, note: { type: 'string' }, ...change },
    run: ([p], v, c) => {
      const proto = s(v, 'proto') || 'tcp';
      if (!p || !isOneOf(GARDEN_PROTOS, proto) || !s(v, 'ports')) return -1;
      return done(c.policy.addGarden(p, proto, s(v, 'ports'), s(v, 'note'), who(v, c)), c, `walled garden: ${p} ${proto} ${s(v, 'ports')} added`);
    },
  },
  'garden remove': { usage: 'policy garden remove <prefix> --reason R', options: change, run: ([p], v, c) => (p ? done(c.policy.removeGarden(p, who(v, c)), c, `walled garden: ${p} removed`) : -1) },
  'garden list': {
    usage: 'policy garden list [--json]', options: { json: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.listGarden(), (g) => [g.prefix, g.proto, g.ports, g.note], ['PREFIX', 'PROTO', 'PORTS', 'NOTE']),
  },
  'edge set': {
    usage: 'policy edge set [--subscriber-if ppp*,eth1] [--upstream-if eth0] [--action reject|icmp|drop] [--relay25 yes|no] [--notice4 ADDR[:PORT]] [--notice6 [ADDR]:PORT] --reason R\n'
      + '  (an empty interface list means pure address matching; --notice4/--notice6: quarantined hosts\' HTTP goes to that\n'
      + '  notice page inside the walled garden, port 80 when none is given; "" removes the redirect)',
    options: { 'subscriber-if': { type: 'string' }, 'upstream-if': { type: 'string' }, action: { type: 'string' }, relay25: { type: 'string' },
      notice4: { type: 'string' }, notice6: { type: 'string' }, ...change },
    run: (_a, v, c) => {
      const patch: Partial<EdgeSettings> = {};
      const ifs = (k: string): string[] => s(v, k).split(',').map((x) => x.trim()).filter(Boolean);
      if (v['subscriber-if'] !== undefined) patch.subscriberIfaces = ifs('subscriber-if');
      if (v['upstream-if'] !== undefined) patch.upstreamIfaces = ifs('upstream-if');
      if (v.action !== undefined) { const a = s(v, 'action'); if (!isOneOf(ACTIONS, a)) return -1; patch.action = a; }
      if (v.relay25 !== undefined) { if (!['yes', 'no'].includes(s(v, 'relay25'))) return -1; patch.relay25 = s(v, 'relay25') === 'yes'; }
      if (v.notice4 !== undefined) patch.notice4 = s(v, 'notice4');
      if (v.notice6 !== undefined) patch.notice6 = s(v, 'notice6');
      return done(c.policy.setSettings(patch, who(v, c)), c, 'edge settings updated');
    },
  },
  show: {
    usage: 'policy show [--json]   (the policy in force now, its version, and the last audit entries)', options: { json: { type: 'boolean' } },
    run: async (_a, v, c) => {
      const snap = await c.policy.snapshot();
      const p = compilePolicy(snap);
      if (v.json) { c.out(JSON.stringify({ version: p.version, snapshot: snap }, null, 2) + '\n'); return 0; }
      const st = snap.settings;
      c.out(`version ${p.version}\n`
        + `edge: subscriber-if ${st.subscriberIfaces.join(',') || '(address matching)'}; upstream-if ${st.upstreamIfaces.join(',') || '(address matching)'}; `
        + `action ${st.action}; subscribers reach provider relays on 25: ${st.relay25 ? 'yes' : 'no'}; `
        + `quarantined HTTP to the notice page: ${[st.notice4, st.notice6].filter(Boolean).join(' ') || 'no'}\n`
        + `pools ${snap.pools.length}, relays ${snap.relays.length}, exemptions in force ${snap.exemptions.length}, `
        + `quarantined ${snap.quarantines.length}, walled garden ${snap.garden.length}\n`);
      for (const [k, items] of Object.entries(p.sets)) if (items.length) c.out(`  ${k.padEnd(12)} ${items.length <= 8 ? items.join(' ') : `${items.slice(0, 8).join(' ')} … (${items.length})`}\n`);
      c.out('recent changes:\n' + table((await c.policy.audit(10)).map((a) => [iso(a.at), a.actor, a.action, a.object, a.reason])));
      return 0;
    },
  },
  diff: {
    usage: 'policy diff [--edge NAME]   (what the next apply changes on that edge; default "local")', options: { edge: { type: 'string' } },
    run: async (_a, v, c) => {
      const edge = s(v, 'edge') || 'local';
      const last = await c.policy.lastApplied(edge);
      const p = compilePolicy(await c.policy.snapshot());
      if (!last) c.out(`# edge ${edge} has no applied policy on record; everything is new\n`);
      else if (last.version === p.version) { c.out(`# edge ${edge} runs ${p.version}: no changes\n`); return 0; }
      else c.out(`# edge ${edge}: ${last.version} → ${p.version}\n`);
      for (const d of diffSets(last?.sets ?? {}, p.sets)) {
        for (const e of d.remove) c.out(`- ${d.set} ${e}\n`);
        for (const e of d.add) c.out(`+ ${d.set} ${e}\n`);
      }
      return 0;
    },
  },
  compile: {
    usage: 'policy compile --format nft|iptables|ios|junos|rbldnsd [--family 4|6 (rbldnsd)] [--output FILE]\n'
      + '  iptables prints the ipset script, then iptables-restore and ip6tables-restore input',
    options: { format: { type: 'string' }, family: { type: 'string' }, output: { type: 'string' } },
    run: async (_a, v, c) => {
      const p = compilePolicy(await c.policy.snapshot());
      let text: string;
      switch (s(v, 'format')) {
        case 'nft': text = compileNft(p); break;
        case 'iptables': { const o = compileIptables(p); text = o.ipset + o.iptables + o.ip6tables; break; }
        case 'ios': text = compileIos(p); break;
        case 'junos': text = compileJunos(p); break;
        case 'rbldnsd': { const z = compileRbldnsd(p); text = s(v, 'family') === '6' ? z.ip6trie : z.ip4trie; break; }
        default: return -1;
      }
      if (s(v, 'output')) writeFileSync(s(v, 'output'), text); else c.out(text);
      return 0;
    },
  },
  apply: {
    usage: 'policy apply [--netns NAME]   (replace portwarden\'s nft table on this host in one transaction; needs CAP_NET_ADMIN)',
    options: { netns: { type: 'string' } },
    run: async (_a, v, c) => {
      const store = new PolicyStore(c.store, c.clock);
      const p = compilePolicy(await store.snapshot());
      const applier = new NftApplier({ runner: nftRunner({ netns: s(v, 'netns') || undefined }), logger: c.logger });
      const r = await applier.applyFull(p);
      if (!r.ok) { c.err(`policy: apply failed: ${r.error}${r.restored ? ' (previous table restored)' : ''}\n`); return 1; }
      await store.recordApplied('local', p.version, p.sets);
      c.out(`applied ${p.version}: ${r.changes} set elements in ${Math.round(r.ms)} ms\n`);
      return 0;
    },
  },
  agent: {
    usage: 'policy agent --url https://HOST:PORT[/v1/netpolicy] --token-file FILE [--edge NAME] [--ca FILE] [--pin sha256/BASE64]... [--wait S] [--interval MS] [--netns NAME]\n'
      + '  runs on an edge router: pulls compiled policy, checks every field, applies it, reports blocked-attempt counters.\n'
      + '  Each pull asks the server to hold it up to --wait seconds (default 50, 0 = off) until the policy changes (push);\n'
      + '  a server that does not hold pulls is pulled every --interval ms (default 250).\n'
      + '  --token-file holds "EDGE-NAME TOKEN" (the line from the server\'s netpolicy.tokenFile) or the bare token with --edge.\n'
      + '  The server is verified against the system CAs, or --ca FILE (e.g. the server\'s own self-signed cert.pem);\n'
      + '  --pin adds a check of the SHA-256 of its public key (SPKI; the server logs it as spkiPin at start)',
    options: {
      url: { type: 'string' }, 'token-file': { type: 'string' }, edge: { type: 'string' }, interval: { type: 'string' }, netns: { type: 'string' },
      wait: { type: 'string' }, ca: { type: 'string' }, pin: { type: 'string', multiple: true },
    },

    run: async (_a, v, c) => {
      if (!s(v, 'url') || !s(v, 'token-file')) return -1;
      const url = agentBaseUrl(s(v, 'url'));
      if (typeof url === 'string') { c.err(`policy: --url: ${url}\n`); return 2; }
      const pins: string[] = [];
      for (const p of (v.pin as unknown as string[] | undefined) ?? []) {
        const pin = parsePin(p);
        if (!pin) { c.err(`policy: --pin ${JSON.stringify(p)}: expected sha256/ and the base64 SHA-256 of the server's public key (SPKI)\n`); return 2; }
        pins.push(pin);
      }
      let ca: string | undefined, tokenText: string;
      try {
        if (s(v, 'ca')) ca = readFileSync(s(v, 'ca'), 'utf8');
        tokenText = readFileSync(s(v, 'token-file'), 'utf8').trim();
      } catch (err) { c.err(`policy: ${(err as Error).message}\n`); return 1; }
      const f = tokenText.split(/\s+/);
      const edge = s(v, 'edge') || (f.length === 2 ? f[0] : '');
      const token = f[f.length - 1];
      if (f.length > 2 || !token || !EDGE_NAME.test(edge) || (f.length === 2 && f[0] !== edge)) {
        c.err('policy: the token file holds "EDGE-NAME TOKEN", or the token alone with --edge NAME; a name given both ways must agree\n');
        return 2;
      }
      const wait = v.wait === undefined ? 50 : /^\d{1,3}$/.test(s(v, 'wait')) ? Number(s(v, 'wait')) : -1;
      if (wait < 0) { c.err('policy: --wait is whole seconds (0 turns push off)\n'); return 2; }
      const applier = new NftApplier({ runner: nftRunner({ netns: s(v, 'netns') || undefined }), logger: c.logger });
      const agent = new PolicyAgent({
        url: url.href, token, edge, applier, logger: c.logger, trust: { ca, pins },
        intervalMs: Number(s(v, 'interval')) || 250, waitSeconds: wait,
      });
      await agent.run(c.signal ?? new AbortController().signal);
      return 0;
    },
  },
  edges: {
    usage: 'policy edges [--json]   (what each edge last reported: the version it enforces, and the last policy it refused)',
    options: { json: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.edges(), (e) => [e.edge, e.version || '(none)', iso(e.reportedAt), e.rejected ? `${e.rejected.version || '?'}: ${e.rejected.error}` : ''],
      ['EDGE', 'ENFORCES', 'REPORTED', 'REFUSED']),
  },
  audit: {
    usage: 'policy audit [--limit N] [--json]', options: { limit: { type: 'string' }, json: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.audit(Number(s(v, 'limit')) || 50), (a) => [iso(a.at), a.actor, a.action, a.object, a.reason, a.detail],
      ['WHEN', 'WHO', 'WHAT', 'OBJECT', 'WHY', 'DETAIL']),
  },
  blocked: {
    usage: 'policy blocked [--limit N] [--json]   (blocked port-25 attempts per source, as edges reported them)',
    options: { limit: { type: 'string' }, json: { type: 'boolean' } },
    run: (_a, v, c) => list(c, v, c.policy.blocked(Number(s(v, 'limit')) || 100), (b) => [b.source, String(b.destinations), String(b.packets), b.edge, iso(b.reportedAt)],
      ['SOURCE', 'DESTINATIONS', 'PACKETS', 'EDGE', 'REPORTED']),
  },
};

async function list<T>(c: Ctx, v: Values, pending: Promise<T[]>, cells: (t: T) => string[], head: string[]): Promise<number> {
  const rows = await pending;
  if (v.json) c.out(terminalJson(rows) + '\n');
  else c.out(table([head, ...rows.map(cells)]));
  return 0;
}

function help(out: (s: string) => void): void {
  out('usage: portwarden policy <command> [options]   (each command takes --help)\n');
  for (const cmd of Object.values(commands)) out(`  ${cmd.usage.split('\n')[0]}\n`);
}

export async function runPolicyCommand(argv: string[], ctx: PolicyCommandContext): Promise<number> {
  const [a, b] = argv;
  const key = commands[`${a} ${b}`] ? `${a} ${b}` : a;
  const cmd = key ? commands[key] : undefined;
  if (!cmd) {
    if (!a || a === '--help' || a === 'help') { help(ctx.out); return 0; }
    ctx.err(`policy: unknown command ${JSON.stringify(argv.slice(0, 2).join(' '))}\n`);
    help(ctx.err);
    return 2;
  }
  const rest = argv.slice(key.split(' ').length);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    ctx.err(`policy: ${(err as Error).message}\nusage: portwarden ${cmd.usage}\n`);
    return 2;
  }
  if (parsed.values.help) { ctx.out(`usage: portwarden ${cmd.usage}\n`); return 0; }
  const clock = ctx.clock ?? systemClock;
  const c: Ctx = { ...ctx, clock, policy: ctx.port ?? new PolicyStore(ctx.store, clock) };
  const code = await cmd.run(parsed.positionals, parsed.values as Values, c);
  if (code === -1) { ctx.err(`usage: portwarden ${cmd.usage}\n`); return 2; }
  return code;
}
