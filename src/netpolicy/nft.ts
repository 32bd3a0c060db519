// nftables compiler: one `inet` table of portwarden's own, replaced atomically
// (create, delete, define in one transaction, so the kernel never runs a
// half-loaded policy and nothing outside the table is touched).
//
// Order of evaluation, and why:
//  1. quarantine first: a quarantined host reaches only the walled garden, even when it is exempt (H4);
//  2. practice 5 (outbound to 25): provider relays, relay/server sources, exemptions pass; blocked space is
//     counted per source (G6) and refused;
//  3. practice 6 (inbound from source port 25): only relays, servers and exempt hosts receive it. Stateless on
//     purpose: a spoofed SYN-ACK or data segment is dropped whether or not conntrack knows the flow (G3).
//  4. with a notice address set, a nat chain in the same table sends quarantined sources' HTTP to the notice page.
// Telemetry rules come before the blocking rule and are separate from it: when a dynamic set is full the
// update fails and ends its rule, and that must never skip the block.
import type { CompiledPolicy, SetDelta, SetName } from './compile.ts';
import { SET_NAMES, diffSets } from './compile.ts';
import type { Action } from './model.ts';
import { HTTP_PORT, noticeTargets, type NoticeTarget } from './notice.ts';

export const NFT_TABLE = 'portwarden';

export interface NftOptions {
  table?: string;
  /** Entries kept per source in the blocked-attempt sets (G6); sized for 1 M subscribers by default. */
  telemetrySize?: number;
  /** How long a quiet source stays in the blocked-attempt sets. */
  telemetryTimeout?: string;
}

const PER_LINE = 4;

function elementsBlock(items: readonly string[], indent: string): string {
  if (!items.length) return '';
  // A million elements: build each line by hand and join once (no slice per line).
  const lead = indent + '\t';
  const lines = new Array<string>(Math.ceil(items.length / PER_LINE));
  for (let i = 0, l = 0; i < items.length; i += PER_LINE, l++) {
    let line = lead + items[i];
    const end = Math.min(i + PER_LINE, items.length);
    for (let j = i + 1; j < end; j++) line += ', ' + items[j];
    lines[l] = line;
  }
  return `${indent}elements = {\n${lines.join(',\n')}\n${indent}}\n`;
}

function setDef(name: SetName, items: readonly string[]): string {
  const type = name.endsWith('4') ? 'ipv4_addr' : 'ipv6_addr';
  return `\tset ${name} {\n\t\ttype ${type}\n\t\tflags interval\n${elementsBlock(items, '\t\t')}\t}\n`;
}

const refuseTcp = (a: Action): string =>
  a === 'reject' ? 'reject with tcp reset' : a === 'icmp' ? 'reject with icmpx admin-prohibited' : 'drop';

const fam = [
  { v: '4', ip: 'ip', addr: 'ipv4_addr' },
  { v: '6', ip: 'ip6', addr: 'ipv6_addr' },
] as const;

function ifaceRules(names: readonly string[], dir: 'iifname' | 'oifname', rest: string): string[] {
  if (!names.length) return [rest];
  return names.map((n) => `${dir} "${n}" ${rest}`);
}

export function compileNft(p: CompiledPolicy, opts: NftOptions = {}): string {
  const table = opts.table ?? NFT_TABLE;
  const size = opts.telemetrySize ?? 1048576;
  const timeout = opts.telemetryTimeout ?? '1d';
  const s = p.settings;
  let out = `# portwarden netpolicy ${p.version}: generated from the policy store; edit the policy, not this file.\n`;
  out += `table inet ${table}\ndelete table inet ${table}\ntable inet ${table} {\n`;
  out += `\tcomment "portwarden netpolicy ${p.version}"\n`;
  for (const name of SET_NAMES) out += setDef(name, p.sets[name]);
  for (const f of fam) {
    out += `\tset blocked_src${f.v} {\n\t\ttype ${f.addr}\n\t\tsize ${size}\n\t\tflags dynamic,timeout\n\t\ttimeout ${timeout}\n\t\tcounter\n\t}\n`;
    out += `\tset blocked_pair${f.v} {\n\t\ttype ${f.addr} . ${f.addr}\n\t\tsize ${size}\n\t\tflags dynamic,timeout\n\t\ttimeout ${timeout}\n\t}\n`;
  }

  const chain = (name: string, rules: string[], head?: string): string =>
    `\tchain ${name} {\n${head ? `\t\t${head}\n` : ''}${rules.map((r) => `\t\t${r}\n`).join('')}\t}\n`;

  const fwd: string[] = [];
  for (const f of fam) fwd.push(`${f.ip} saddr @quarantine${f.v} jump quarantine_out`);
  for (const f of fam) fwd.push(`${f.ip} daddr @quarantine${f.v} jump quarantine_in`);
  fwd.push(...ifaceRules(s.subscriberIfaces, 'iifname', 'tcp dport 25 jump smtp_out'));
  fwd.push(...ifaceRules(s.upstreamIfaces, 'iifname', 'tcp sport 25 jump smtp_in'));

  const outRules: string[] = [];
  for (const f of fam) {
    if (s.relay25) outRules.push(`${f.ip} daddr @relay${f.v} counter accept`);
    outRules.push(`${f.ip} saddr @relay${f.v} accept`, `${f.ip} saddr @server${f.v} accept`, `${f.ip} saddr @exempt${f.v} counter accept`);
  }
  for (const f of fam) {
    outRules.push(`${f.ip} saddr @dynamic${f.v} update @blocked_src${f.v} { ${f.ip} saddr }`);
    outRules.push(`${f.ip} saddr @dynamic${f.v} add @blocked_pair${f.v} { ${f.ip} saddr . ${f.ip} daddr }`);
    outRules.push(`${f.ip} saddr @dynamic${f.v} counter ${refuseTcp(s.action)}`);
  }

  const inRules: string[] = [];
  for (const f of fam) {
    if (s.relay25) inRules.push(`${f.ip} saddr @relay${f.v} accept`);
    inRules.push(`${f.ip} daddr @relay${f.v} accept`, `${f.ip} daddr @server${f.v} accept`, `${f.ip} daddr @exempt${f.v} counter accept`);
  }
  for (const f of fam) inRules.push(`${f.ip} daddr @dynamic${f.v} counter drop`);

  const garden: string[] = p.garden.map((g) => {
    const ip = g.family === 4 ? 'ip' : 'ip6';
    const ports = g.ports.includes(',') ? `{ ${g.ports.split(',').join(', ')} }` : g.ports;
    const l4 = g.proto === 'both' ? 'meta l4proto { tcp, udp } th' : g.proto;
    return `${ip} daddr ${g.prefix} ${l4} dport ${ports} accept`;
  });
  const notices = noticeTargets(p);
  // The notice page is in the garden whether or not an entry names it: the redirect below sends HTTP there.
  for (const n of notices) garden.push(`${n.family === 4 ? 'ip' : 'ip6'} daddr ${n.addr} tcp dport ${n.port} accept`);
  if (s.action === 'reject') garden.push('meta l4proto tcp counter reject with tcp reset');
  garden.push(s.action === 'drop' ? 'counter drop' : 'counter reject with icmpx admin-prohibited');

  out += chain('quarantine_out', garden);
  out += chain('quarantine_in', ['ct state established,related accept', 'counter drop']);
  out += chain('smtp_out', outRules);
  out += chain('smtp_in', inRules);
  out += chain('forward', fwd, 'type filter hook forward priority filter; policy accept;');
  if (notices.length) out += chain('notice', noticeRules(notices), 'type nat hook prerouting priority dstnat; policy accept;');
  out += '}\n';
  return out;
}

/**
 * Quarantined sources' new TCP connections to port 80 are rewritten to the notice page (RFC 6561 §5.4's
 * walled garden; prerouting, so the forward chain then sees the notice address, which the garden allows).
 * Garden destinations that allow port 80 themselves keep it. Replies are un-NATed by conntrack.
 */
function noticeRules(notices: readonly NoticeTarget[]): string[] {
  const rules: string[] = [];
  for (const n of notices) {
    const ip = n.family === 4 ? 'ip' : 'ip6';
    const from = `${ip} saddr @quarantine${n.family} tcp dport ${HTTP_PORT}`;
    for (const g of n.keep80) rules.push(`${from} ${ip} daddr ${g} accept`);
    rules.push(`${from} counter dnat ${ip} to ${n.target}`);
  }
  return rules;
}

/**
 * One nft transaction changing set elements only, written so that nft need not read the ruleset first.
 * nft 1.0.6 answers `add element` and `delete element` commands by fetching every element of every set
 * from the kernel before the transaction (2.3 s with 100 k elements loaded here, whichever set is
 * changed), while a set block in table syntax (`table … { set … { elements = { … } } }`) adds its
 * elements without that fetch (0.02 s). So: a set that only gains elements gets a block of the new ones;
 * a set that loses any is flushed and refilled with its whole new content in the same transaction (the
 * cost is that set's size, and packets see the old set or the new one, never a half). The compiled
 * sets never overlap, so additions never collide with what stays.
 */
export function nftDeltaScript(deltas: readonly SetDelta[], next: Readonly<Record<string, readonly string[]>>, table = NFT_TABLE): string {
  let flush = '', blocks = '';
  for (const d of deltas) {
    const name = d.set as SetName;
    if (d.remove.length) {
      flush += `flush set inet ${table} ${name}\n`;
      if (next[name]?.length) blocks += setDef(name, next[name]);
    } else if (d.add.length) blocks += setDef(name, d.add);
  }
  return blocks ? `${flush}table inet ${table} {\n${blocks}}\n` : flush;
}

export function nftDelta(prev: CompiledPolicy, next: CompiledPolicy, table = NFT_TABLE): string | null {
  if (prev.shape !== next.shape) return null;
  return nftDeltaScript(diffSets(prev.sets, next.sets), next.sets, table);
}
