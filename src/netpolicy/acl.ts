// Compilers for filters portwarden does not apply itself: iptables-restore with
// ipset (older Linux edges), Cisco IOS and Junos ACL text (routers and BNGs the
// operator configures). Same evaluation order as nft.ts: quarantine, then
// practice 5 (outbound to 25), then practice 6 (inbound from source port 25).
// These have no interval sets, so ranges are split into CIDR blocks.
import type { CompiledPolicy, CompiledGarden, SetName } from './compile.ts';
import { SET_NAMES } from './compile.ts';
import { splitCidrs } from './cidrs.ts';
import type { Family } from './prefix.ts';
import { formatV4 } from './format.ts';
import { HTTP_PORT, noticeTargets } from './notice.ts';

const familyOf = (set: SetName): Family => (set.endsWith('4') ? 4 : 6);
const cidrText = (addr: string, len: number, family: Family): string => (len === (family === 4 ? 32 : 128) ? addr : `${addr}/${len}`);
const cidrTexts = (p: CompiledPolicy, set: SetName): string[] => {
  const f = familyOf(set);
  return splitCidrs(p.sets[set], f, (addr, len) => cidrText(addr, len, f));
};
const protos = (g: CompiledGarden): string[] => (g.proto === 'both' ? ['tcp', 'udp'] : [g.proto]);
const portSpans = (ports: string): Array<[number, number]> =>
  ports.split(',').map((p) => { const [a, b] = p.split('-').map(Number); return [a, b ?? a]; });

// ---------------------------------------------------------------- iptables + ipset

export interface IptablesOutput { ipset: string; iptables: string; ip6tables: string }

const ipsetName = (set: string): string => `pw-${set}`;
const IPSET_MAXELEM = 1 << 24;

/**
 * ipset restore script (each set filled under a temporary name, then swapped in, so lookups never see a
 * half-filled set) and iptables-restore --noflush input that rewrites only portwarden's own chains.
 * Hook once with: iptables -I FORWARD -j PW-FORWARD, and for the notice redirect
 * iptables -t nat -I PREROUTING -j PW-NOTICE (the same for ip6tables). PW-NOTICE is written on every load,
 * empty when no notice address is set, so that clearing the setting also clears the redirect.
 */
export function compileIptables(p: CompiledPolicy): IptablesOutput {
  let ipset = `# portwarden netpolicy ${p.version}: ipset restore -exist < this\n`;
  for (const set of SET_NAMES) {
    const family = set.endsWith('4') ? 'inet' : 'inet6';
    const items = cidrTexts(p, set);
    // One maxelem whatever the size: "create -exist" fails on a live set made with other parameters, so a
    // size-dependent limit would break the next load once a set grew. The limit reserves no memory.
    const max = Math.max(IPSET_MAXELEM, items.length);
    const name = ipsetName(set), tmp = `${name}.new`;
    ipset += `create ${name} hash:net family ${family} maxelem ${max} -exist\n`;
    ipset += `create ${tmp} hash:net family ${family} maxelem ${max} -exist\nflush ${tmp}\n`;
    if (items.length) ipset += `add ${tmp} ${items.join(`\nadd ${tmp} `)}\n`;
    ipset += `swap ${tmp} ${name}\ndestroy ${tmp}\n`;
  }
  for (const v of ['4', '6']) {
    const family = v === '4' ? 'inet' : 'inet6';
    ipset += `create pw-blocked-src${v} hash:ip family ${family} timeout 86400 counters maxelem 1048576 -exist\n`;
  }
  const table = (v: '4' | '6'): string => {
    const s = p.settings;
    const m = (set: string, dir: 'src' | 'dst'): string => `-m set --match-set ${ipsetName(set + v)} ${dir}`;
    const refuse = s.action === 'reject' ? '-j REJECT --reject-with tcp-reset'
      : s.action === 'icmp' ? `-j REJECT --reject-with ${v === '4' ? 'icmp-admin-prohibited' : 'icmp6-adm-prohibited'}` : '-j DROP';
    const lines: string[] = [`# portwarden netpolicy ${p.version}: ip${v === '6' ? '6' : ''}tables-restore --noflush < this`, '*filter'];
    for (const c of ['PW-FORWARD', 'PW-QUARANTINE-OUT', 'PW-QUARANTINE-IN', 'PW-SMTP-OUT', 'PW-SMTP-IN']) lines.push(`:${c} - [0:0]`, `-F ${c}`);
    lines.push(`-A PW-FORWARD ${m('quarantine', 'src')} -j PW-QUARANTINE-OUT`, `-A PW-FORWARD ${m('quarantine', 'dst')} -j PW-QUARANTINE-IN`);
    const ifs = (names: readonly string[]): string[] => (names.length ? names.map((n) => `-i ${n.replace(/\*$/, '+')} `) : ['']);
    for (const i of ifs(s.subscriberIfaces)) lines.push(`-A PW-FORWARD ${i}-p tcp --dport 25 -j PW-SMTP-OUT`);
    for (const i of ifs(s.upstreamIfaces)) lines.push(`-A PW-FORWARD ${i}-p tcp --sport 25 -j PW-SMTP-IN`);
    for (const g of p.garden) {
      if (String(g.family) !== v) continue;
      for (const proto of protos(g)) lines.push(`-A PW-QUARANTINE-OUT -d ${g.prefix} -p ${proto} -m multiport --dports ${g.ports.replaceAll('-', ':')} -j ACCEPT`);
    }
    const notice = noticeTargets(p).find((n) => String(n.family) === v);
    if (notice) lines.push(`-A PW-QUARANTINE-OUT -d ${notice.addr} -p tcp --dport ${notice.port} -j ACCEPT`);
    if (s.action === 'reject') lines.push('-A PW-QUARANTINE-OUT -p tcp -j REJECT --reject-with tcp-reset');
    lines.push(`-A PW-QUARANTINE-OUT ${s.action === 'drop' ? '-j DROP' : `-j REJECT --reject-with ${v === '4' ? 'icmp-admin-prohibited' : 'icmp6-adm-prohibited'}`}`);
    lines.push('-A PW-QUARANTINE-IN -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT', '-A PW-QUARANTINE-IN -j DROP');
    if (s.relay25) lines.push(`-A PW-SMTP-OUT ${m('relay', 'dst')} -j ACCEPT`);
    lines.push(`-A PW-SMTP-OUT ${m('relay', 'src')} -j ACCEPT`, `-A PW-SMTP-OUT ${m('server', 'src')} -j ACCEPT`, `-A PW-SMTP-OUT ${m('exempt', 'src')} -j ACCEPT`);
    lines.push(`-A PW-SMTP-OUT ${m('dynamic', 'src')} -j SET --add-set pw-blocked-src${v} src --exist`);
    // "-p tcp" on the refusing rules: the kernel refuses a tcp-reset REJECT in a rule that does not match TCP.
    lines.push(`-A PW-SMTP-OUT ${m('dynamic', 'src')} -m set --match-set pw-blocked-src${v} src -p tcp ${refuse}`);
    lines.push(`-A PW-SMTP-OUT ${m('dynamic', 'src')} -p tcp ${refuse}`);
    if (s.relay25) lines.push(`-A PW-SMTP-IN ${m('relay', 'src')} -j ACCEPT`);
    lines.push(`-A PW-SMTP-IN ${m('relay', 'dst')} -j ACCEPT`, `-A PW-SMTP-IN ${m('server', 'dst')} -j ACCEPT`, `-A PW-SMTP-IN ${m('exempt', 'dst')} -j ACCEPT`);
    lines.push(`-A PW-SMTP-IN ${m('dynamic', 'dst')} -j DROP`, 'COMMIT');
    // The notice redirect: quarantined sources' HTTP to the notice page, garden destinations with port 80 excepted.
    lines.push('*nat', ':PW-NOTICE - [0:0]', '-F PW-NOTICE');
    if (notice) {
      const from = `${m('quarantine', 'src')} -p tcp --dport ${HTTP_PORT}`;
      for (const g of notice.keep80) lines.push(`-A PW-NOTICE ${from} -d ${g} -j RETURN`);
      lines.push(`-A PW-NOTICE ${from} -j DNAT --to-destination ${notice.target}`);
    }
    lines.push('COMMIT');
    return lines.join('\n') + '\n';
  };
  return { ipset, iptables: table('4'), ip6tables: table('6') };
}

// ---------------------------------------------------------------- Cisco IOS

function iosAddr(family: Family, addr: string, len: number): string {
  if (family === 6) return len === 128 ? `host ${addr}` : `${addr}/${len}`;
  if (len === 32) return `host ${addr}`;
  if (len === 0) return 'any';
  return `${addr} ${formatV4(0xffffffff >>> len)}`;
}

export function compileIos(p: CompiledPolicy): string {
  // IOS has one deny; whether it answers with ICMP follows the interface's "ip unreachables".
  const deny = 'deny';
  let out = `! portwarden netpolicy ${p.version}\n! Apply OP25B-UP inbound and OP25B-DOWN outbound on subscriber-facing interfaces.\n`;
  for (const v of ['4', '6'] as const) {
    const family: Family = v === '4' ? 4 : 6;
    // Each list is split and formatted once, though both ACLs use it.
    const lists = new Map<string, string[]>();
    const a = (set: string): string[] => {
      let l = lists.get(set);
      if (!l) lists.set(set, l = splitCidrs(p.sets[(set + v) as SetName], family, (addr, len) => iosAddr(family, addr, len)));
      return l;
    };
    const head = (name: string): string => (v === '4' ? `ip access-list extended ${name}` : `ipv6 access-list ${name}`);
    const ipWord = v === '4' ? 'ip' : 'ipv6';
    const up: string[] = [head(`PW-OP25B-UP${v === '6' ? '6' : ''}`), ' remark portwarden: quarantine walled garden, then MAAWG practice 5'];
    const garden: Array<[string, string]> = [];
    for (const g of p.garden.filter((x) => x.family === family)) {
      const [gc] = splitCidrs([g.prefix], family, (addr, len) => iosAddr(family, addr, len));
      for (const proto of protos(g)) for (const [lo, hi] of portSpans(g.ports)) garden.push([proto, `${gc} ${lo === hi ? `eq ${lo}` : `range ${lo} ${hi}`}`]);
    }
    const notice = noticeTargets(p).find((n) => n.family === family);
    if (notice) {
      // The notice page is in the garden; HTTP elsewhere is let through to policy routing, which runs after this ACL.
      up.push(` remark portwarden: notice page ${notice.target}: an ACL cannot rewrite addresses; route quarantined TCP ${HTTP_PORT} to it with PBR (route-map PW-NOTICE${v === '6' ? '6' : ''} below)`);
      garden.push(['tcp', `${iosAddr(family, notice.addr, family === 4 ? 32 : 128)} eq ${notice.port}`], ['tcp', `any eq ${HTTP_PORT}`]);
    }
    for (const q of a('quarantine')) {
      for (const [proto, to] of garden) up.push(` permit ${proto} ${q} ${to}`);
      up.push(` ${deny} ${ipWord} ${q} any`);
    }
    if (p.settings.relay25) for (const r of a('relay')) up.push(` permit tcp any ${r} eq smtp`);
    for (const set of ['relay', 'server', 'exempt']) for (const s of a(set)) up.push(` permit tcp ${s} any eq smtp`);
    for (const d of a('dynamic')) up.push(` ${deny} tcp ${d} any eq smtp`);
    up.push(` permit ${ipWord} any any`);
    const down: string[] = [head(`PW-OP25B-DOWN${v === '6' ? '6' : ''}`), ' remark portwarden: quarantine, then MAAWG practice 6'];
    for (const q of a('quarantine')) down.push(` permit tcp any ${q} established`, ` ${deny} ${ipWord} any ${q}`);
    if (p.settings.relay25) for (const r of a('relay')) down.push(` permit tcp ${r} eq smtp any`);
    for (const set of ['relay', 'server', 'exempt']) for (const s of a(set)) down.push(` permit tcp any eq smtp ${s}`);
    for (const d of a('dynamic')) down.push(` ${deny} tcp any eq smtp ${d}`);
    down.push(` permit ${ipWord} any any`);
    out += up.join('\n') + '\n' + down.join('\n') + '\n';
    if (notice) out += iosNoticeHint(v, notice.addr, a('quarantine'), notice.keep80.map((g) => splitCidrs([g], family, (addr, len) => iosAddr(family, addr, len))[0]));
  }
  return out;
}

/**
 * IOS has no DNAT in an ACL: what the operator configures so that quarantined HTTP reaches the notice host,
 * written as comments (the host must answer for any destination address, e.g. nft "tcp dport 80 redirect").
 */
function iosNoticeHint(v: '4' | '6', addr: string, quarantined: string[], keep80: string[]): string {
  const six = v === '6' ? '6' : '';
  const ip = v === '4' ? 'ip' : 'ipv6';
  const acl = v === '4' ? `ip access-list extended PW-NOTICE-MATCH` : `ipv6 access-list PW-NOTICE-MATCH6`;
  const lines = [
    `! PBR for the notice page (not applied by this file; configure once, then reload this ACL as usual):`,
    `! ${acl}`,
    ...keep80.flatMap((g) => quarantined.map((q) => `!  deny tcp ${q} ${g} eq ${HTTP_PORT}`)),
    ...quarantined.map((q) => `!  permit tcp ${q} any eq ${HTTP_PORT}`),
    `! route-map PW-NOTICE${six} permit 10`,
    `!  match ${ip} address PW-NOTICE-MATCH${six}`,
    `!  set ${ip} next-hop ${addr}`,
    `! interface <subscriber-facing>`,
    `!  ${ip} policy route-map PW-NOTICE${six}`,
  ];
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- Junos

export function compileJunos(p: CompiledPolicy): string {
  const act = p.settings.action === 'reject' ? 'reject tcp-reset;' : p.settings.action === 'icmp' ? 'reject administratively-prohibited;' : 'discard;';
  let lists = '';
  for (const set of SET_NAMES) {
    const items = cidrTexts(p, set);
    lists += `    prefix-list pw-${set} {\n${items.map((c) => `        ${c};\n`).join('')}    }\n`;
  }
  let filters = '';
  for (const v of ['4', '6'] as const) {
    const family = v === '4' ? 'inet' : 'inet6';
    const proto = (x: string): string => (v === '4' ? `protocol ${x};` : `next-header ${x};`);
    const term = (name: string, from: string, then: string): string =>
      `            term ${name} {\n                from { ${from} }\n                then { ${then} }\n            }\n`;
    let up = '';
    p.garden.filter((g) => String(g.family) === v).forEach((g, i) => {
      const ports = g.ports.split(',').join(' ');
      for (const pr of protos(g)) {
        up += term(`garden-${i}-${pr}`, `source-prefix-list pw-quarantine${v}; destination-address { ${g.prefix}; } ${proto(pr)} destination-port [ ${ports} ];`, 'accept;');
      }
    });
    const notice = noticeTargets(p).find((n) => String(n.family) === v);
    if (notice) {
      // A filter cannot rewrite addresses; filter-based forwarding sends quarantined HTTP to the notice host.
      up += term('notice-page', `source-prefix-list pw-quarantine${v}; destination-address { ${notice.addr}/${v === '4' ? 32 : 128}; } ${proto('tcp')} destination-port ${notice.port};`, 'accept;');
      up += term('notice-http', `source-prefix-list pw-quarantine${v}; ${proto('tcp')} destination-port ${HTTP_PORT};`, `count pw-notice${v}; routing-instance pw-notice${v};`);
    }
    up += term('quarantine', `source-prefix-list pw-quarantine${v};`, `count pw-quarantine${v}; ${p.settings.action === 'reject' ? 'reject administratively-prohibited;' : act}`);
    if (p.settings.relay25) up += term('to-relay', `destination-prefix-list pw-relay${v}; ${proto('tcp')} destination-port 25;`, 'accept;');
    up += term('allowed', `source-prefix-list { pw-relay${v}; pw-server${v}; pw-exempt${v}; } ${proto('tcp')} destination-port 25;`, 'accept;');
    up += term('op25b', `source-prefix-list pw-dynamic${v}; ${proto('tcp')} destination-port 25;`, `count pw-op25b-up${v}; ${act}`);
    up += '            term rest {\n                then accept;\n            }\n';
    let down = '';
    down += term('quarantine-replies', `destination-prefix-list pw-quarantine${v}; ${proto('tcp')} tcp-established;`, 'accept;');
    down += term('quarantine', `destination-prefix-list pw-quarantine${v};`, 'discard;');
    if (p.settings.relay25) down += term('from-relay', `source-prefix-list pw-relay${v}; ${proto('tcp')} source-port 25;`, 'accept;');
    down += term('allowed', `destination-prefix-list { pw-relay${v}; pw-server${v}; pw-exempt${v}; } ${proto('tcp')} source-port 25;`, 'accept;');
    down += term('op25b', `destination-prefix-list pw-dynamic${v}; ${proto('tcp')} source-port 25;`, `count pw-op25b-down${v}; discard;`);
    down += '            term rest {\n                then accept;\n            }\n';
    filters += `    family ${family} {\n        filter pw-op25b-up${v} {\n${up}        }\n        filter pw-op25b-down${v} {\n${down}        }\n    }\n`;
  }
  return `/* portwarden netpolicy ${p.version} */\npolicy-options {\n${lists}}\nfirewall {\n${filters}}\n${junosNoticeHint(p)}`;
}

/** The forwarding instances the notice-http terms name (not part of this file's configuration: the operator's). */
function junosNoticeHint(p: CompiledPolicy): string {
  const n = noticeTargets(p);
  if (!n.length) return '';
  const inst = n.map((t) => `    pw-notice${t.family} {\n        instance-type forwarding;\n        routing-options {\n`
    + (t.family === 4 ? `            static { route 0.0.0.0/0 next-hop ${t.addr}; }\n` : `            rib pw-notice6.inet6.0 { static { route ::/0 next-hop ${t.addr}; } }\n`)
    + '        }\n    }\n').join('');
  return `/* The notice-http terms need these forwarding instances (filter-based forwarding; configure once, with a\n`
    + `   rib-group that imports interface routes so the next hop resolves). The notice host must answer for any\n`
    + `   destination address on port ${HTTP_PORT} (e.g. nft "tcp dport ${HTTP_PORT} redirect").\nrouting-instances {\n${inst}}\n*/\n`;
}
