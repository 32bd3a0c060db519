// `portwarden policy explain ADDRESS[:PORT]`: the policy.explain operation
// ("Am I blocked?") on the state store — the class of the address, its port 25
// and why, exemption, relay, quarantine, who holds it, our own DNSBL zone and
// the outside listings the DNSBL checker recorded. Open cases live in the
// running server (the API's /api/v1/policy/explain has them); here they are
// reported as not checked.
import { parseArgs } from 'node:util';
import { PolicyStore } from '../netpolicy/index.ts';
import { dnsblStateStore } from '../abuse/index.ts';
import { systemClock, terminalJson, visible } from '../core/index.ts';
import type { Explanation } from '../app/index.ts';
import { UsageError, type Io } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';

export const EXPLAIN_USAGE = `usage: portwarden policy explain ADDRESS[:PORT] [--port N] [--json] [--config FILE]
  "Am I blocked?" for one address: its class (dynamic, static, business, cgnat, or outside our pools),
  whether outbound port 25 is blocked for it and why (class, exemption and its expiry, relay, quarantine),
  who holds it now, whether our own DNSBL zone lists it, and the outside listings the DNSBL checker recorded.
  Behind CGNAT give the source port: it names the subscriber.`;

const iso = (t: number | null): string => (t === null ? 'never' : new Date(t).toISOString());

const WHY: Record<Explanation['port25']['reason'], string> = {
  quarantine: 'blocked: the address is quarantined (walled garden)',
  relay: 'open: one of our relays',
  'customer-server': 'open: a customer server allowed to send on port 25',
  exemption: 'open: a port-25 exemption is in force',
  'blocked-class': 'blocked: its pool class is blocked (dynamic or CGNAT space)',
  'open-class': 'open: its pool class is not blocked',
  'not-ours': 'not blocked by us: the address is in none of our pools',
};

export function formatExplanation(e: Explanation): string {
  const lines = [
    `address      ${e.address}${e.port !== null ? ` port ${e.port}` : ''}`,
    `class        ${e.class}${e.pool ? ` (pool ${e.pool.prefix}, ${e.pool.class})` : ' (in none of our pools)'}${e.sharedSpace ? '; shared space 100.64.0.0/10' : ''}`,
    `port 25      ${WHY[e.port25.reason]}`,
  ];
  if (e.exemption) lines.push(`exemption    ${e.exemption.prefix}, granted ${iso(e.exemption.grantedAt)}, expires ${iso(e.exemption.expiresAt)}`);
  if (e.relay) lines.push(`relay        ${e.relay.prefix} (${e.relay.kind})`);
  if (e.quarantine) lines.push(`quarantine   ${e.quarantine.prefix} since ${iso(e.quarantine.since)}${e.quarantine.caseId ? `, case ${e.quarantine.caseId}` : ''}`);
  lines.push(`held by      ${e.holders === null ? 'not checked (no directory here)' : e.holders === 0 ? 'nobody now' : e.subscriber ?? `${e.holders} subscribers (CGNAT: give the port)`}`);
  lines.push(`open case    ${e.openCase === null ? 'not checked here (the running server has the cases: GET /api/v1/policy/explain)' : e.openCase.open ? `${e.openCase.id} opened ${iso(e.openCase.openedAt)}` : 'none'}`);
  lines.push(`our DNSBL    ${e.providerDnsbl.listed ? 'listed' : 'not listed'}`);
  lines.push(`outside      ${e.outsideDnsbl === null ? 'not checked (abuse.dnsbl.zones is empty)' : e.outsideDnsbl.length ? e.outsideDnsbl.map((l) => `${l.zone} ${l.answer} since ${iso(l.since)}`).join('; ') : 'no listing recorded'}`);
  return lines.map((l) => visible(l)).join('\n');
}

export async function explainCommand(argv: string[], config: string | undefined, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { io.out(EXPLAIN_USAGE); return 0; }
  if (positionals.length !== 1) throw new UsageError(`policy explain: give one ADDRESS\n${EXPLAIN_USAGE}`);
  if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) throw new UsageError(`policy explain: --port takes a number 0..65535, not ${JSON.stringify(values.port)}`);
  const app = await openApp(config, io, (store) => ({ policy: new PolicyStore(store, systemClock) }));
  if (!app) return 1;
  try {
    if (app.cfg.abuse.dnsbl.zones.length) app.deps.dnsbl = await dnsblStateStore(app.store);
    const r = await runOp<Explanation>(app, 'policy.explain', { address: positionals[0], port: values.port === undefined ? undefined : Number(values.port) });
    if (!r.ok) return refuse(io, 'policy explain', r.error);
    io.out(values.json ? terminalJson(r.value) : formatExplanation(r.value));
    return 0;
  } finally { await app.close(); }
}
