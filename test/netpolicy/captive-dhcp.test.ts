// `portwarden notice snippets` against the real programs: the printed Kea lines
// pass kea-dhcp4/kea-dhcp6 -t inside a full config (and a wrong code does not:
// -t checks the option's definition), the ISC dhcpd lines pass dhcpd -t, and a
// real kea-dhcp4 in a namespace hands option 114 with the URI to a real DHCP
// client (busybox udhcpc asking for it with -O 114). The RA option's bytes
// follow RFC 8910 §2.3.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAIN, NODE, run } from '../lib/portwarden.ts';
import { canUseNetns, needTools, tempDir } from '../lib/tools.ts';
import { checkCaptiveUri, raOption } from '../../src/cli/notice-snippets.ts';

const URI = 'https://portal.isp.example/captive-portal/api';
let tmp: ReturnType<typeof tempDir>, printed = '';
const keaEnv = () => ({ ...process.env, KEA_PIDFILE_DIR: tmp.path, KEA_LOCKFILE_DIR: tmp.path });

before(async () => {
  tmp = tempDir('pw-captive-');
  const cfg = join(tmp.path, 'pw.yaml');
  writeFileSync(cfg, `dataDir: ${JSON.stringify(join(tmp.path, 'data'))}\nrelay: {smarthost: "127.0.0.1:9"}\nabuse: {notices: {pageUrl: "https://portal.isp.example/notice?x=1"}}\n`);
  const r = await run(NODE, [MAIN, 'notice', 'snippets', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  printed = r.stdout;
});
after(() => tmp?.remove());

/** The snippet line after the "## <heading>" line that starts with `head`. */
function section(head: string): string[] {
  const lines = printed.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`## ${head}`));
  assert.ok(at >= 0, `no section ${head}`);
  const end = lines.findIndex((l, i) => i > at && (l.startsWith('## ') || l === ''));
  return lines.slice(at + 1, end < 0 ? undefined : end);
}

test('the URI is the API path on the notice page\'s host; refusals in words', () => {
  assert.match(printed, new RegExp(`^# RFC 8910 captive-portal URI: ${URI.replace(/[./]/g, '\\$&')}$`, 'm'));
  assert.deepEqual(checkCaptiveUri('http://portal.isp.example/x'), { ok: false, why: '"http://portal.isp.example/x": the captive-portal API must be an https URI (RFC 8908 §4)' });
  assert.equal(checkCaptiveUri('not a uri').ok, false);
  assert.match((checkCaptiveUri(`https://x.example/${'a'.repeat(300)}`) as { why: string }).why, /a DHCPv4 option holds 255/);
  assert.match((checkCaptiveUri("https://x.example/a'b") as { why: string }).why, /quotes/, 'a quote would end a dhcpd or Junos string');
});

test('RA option 37: type, length in 8-octet units with the header, the URI, NUL padding (RFC 8910 §2.3)', () => {
  const b = raOption(URI);
  assert.equal(b[0], 37);
  assert.equal(b.length % 8, 0);
  assert.equal(b[1] * 8, b.length);
  assert.equal(b.subarray(2, 2 + URI.length).toString('ascii'), URI);
  assert.ok(b.subarray(2 + URI.length).every((x) => x === 0));
  assert.equal(raOption('https://a.b/').length, 16, '2 + 12 octets pad to 16');
  assert.equal(raOption('https://ab/').length, 16, '2 + 11 octets pad to 16');
  assert.equal(raOption('https://a/').length, 16);
  const hex = section('IPv6 Router Advertisement').filter((l) => /^# {3}[0-9a-f]{2}( |$)/.test(l)).map((l) => l.slice(4)).join(' ');
  assert.equal(hex, [...b].map((x) => x.toString(16).padStart(2, '0')).join(' '));
});

const keaSkip = needTools('kea-dhcp4', 'kea-dhcp6');
test('Kea: the printed option-data lines pass kea-dhcp4 -t and kea-dhcp6 -t; a wrong code fails', { skip: keaSkip }, async () => {
  for (const v of [4, 6] as const) {
    const [line] = section(`Kea DHCPv${v}`);
    const optionData = JSON.parse(`{${line}}`)['option-data'];
    assert.deepEqual(optionData, [{ name: `v${v}-captive-portal`, code: v === 4 ? 114 : 103, data: URI }]);
    const check = async (od: unknown): Promise<number> => {
      const f = join(tmp.path, `kea${v}.json`);
      writeFileSync(f, JSON.stringify({ [`Dhcp${v}`]: { 'interfaces-config': { interfaces: [] }, 'option-data': od, [`subnet${v}`]: [] } }));
      try { await promisify(execFile)(`kea-dhcp${v}`, ['-t', f], { env: keaEnv() }); return 0; } catch (e) { return (e as { code: number }).code; }
    };
    assert.equal(await check(optionData), 0, `kea-dhcp${v} -t accepts the lines`);
    assert.notEqual(await check([{ ...optionData[0], code: 160 }]), 0, 'kea -t checks the code against the name');
  }
});

const dhcpdSkip = needTools('dhcpd');
test('ISC dhcpd: the printed lines pass dhcpd -t for DHCPv4 and DHCPv6', { skip: dhcpdSkip }, async () => {
  for (const [v, head] of [[4, 'ISC dhcpd (dhcpd.conf)'], [6, 'ISC dhcpd -6']] as const) {
    const lines = section(head);
    assert.equal(lines.length, 2);
    const f = join(tmp.path, `dhcpd${v}.conf`);
    writeFileSync(f, lines.join('\n') + '\n');
    await promisify(execFile)('dhcpd', ['-t', `-${v}`, '-cf', f]);
    writeFileSync(f, lines.join('\n').replace('= text', '= bogus-type') + '\n');
    await assert.rejects(promisify(execFile)('dhcpd', ['-t', `-${v}`, '-cf', f]), 'dhcpd -t is a real check');
  }
});

const wireSkip = needTools('ip', 'kea-dhcp4', 'busybox') || (canUseNetns() ? false : 'needs root for network namespaces');
test('on the wire: kea-dhcp4 with the printed lines hands option 114 to a real DHCP client', { skip: wireSkip }, async () => {
  const id = `pw-${randomBytes(3).toString('hex')}`, SRV = `${id}-dhcp`, CLI = `${id}-cpe`;
  const sh = (...a: string[]): string => execFileSync(a[0], a.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const inNs = (ns: string, ...a: string[]): string => sh('ip', 'netns', 'exec', ns, ...a);
  let kea: ChildProcess | undefined;
  try {
    for (const ns of [SRV, CLI]) { sh('ip', 'netns', 'add', ns); inNs(ns, 'ip', 'link', 'set', 'lo', 'up'); }
    inNs(SRV, 'ip', 'link', 'add', 'srv0', 'type', 'veth', 'peer', 'name', 'cpe0');
    inNs(SRV, 'ip', 'link', 'set', 'cpe0', 'netns', CLI);
    inNs(SRV, 'ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'srv0');
    inNs(SRV, 'ip', 'link', 'set', 'srv0', 'up');
    inNs(CLI, 'ip', 'link', 'set', 'cpe0', 'up');
    const [line] = section('Kea DHCPv4');
    const conf = join(tmp.path, 'kea-wire.json');
    writeFileSync(conf, JSON.stringify({ Dhcp4: {
      'interfaces-config': { interfaces: ['srv0'], 'dhcp-socket-type': 'raw' },
      'lease-database': { type: 'memfile', persist: false }, 'valid-lifetime': 600,
      ...JSON.parse(`{${line}}`),
      subnet4: [{ id: 1, subnet: '198.51.100.0/24', pools: [{ pool: '198.51.100.100 - 198.51.100.150' }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: join(tmp.path, 'kea-wire.log') }], severity: 'INFO' }],
    } }));
    kea = spawn('ip', ['netns', 'exec', SRV, 'kea-dhcp4', '-c', conf], { stdio: 'ignore', env: keaEnv() });
    // udhcpc runs the script with each option in its environment: an option it has no name for as optNNN (hex).
    const script = join(tmp.path, 'udhcpc.sh');
    const dump = join(tmp.path, 'udhcpc.env');
    writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && env > ${dump}\nexit 0\n`);
    chmodSync(script, 0o755);
    let env = '';
    for (let i = 0; i < 5 && !env; i++) {
      try { inNs(CLI, 'busybox', 'udhcpc', '-i', 'cpe0', '-n', '-q', '-f', '-t', '4', '-T', '1', '-O', '114', '-s', script); } catch { /* kea not up yet: try again */ }
      try { env = readFileSync(dump, 'utf8'); } catch { /* no lease yet */ }
    }
    assert.ok(env, 'the client got a lease');
    const v = /^(?:opt114|captive_portal)=(.*)$/m.exec(env)?.[1];
    assert.ok(v, `option 114 reached the client: ${env.split('\n').filter((l) => /^(opt|ip=)/.test(l)).join(' ')}`);
    const text = /^[0-9a-f]+$/i.test(v) && !v.startsWith('https') ? Buffer.from(v, 'hex').toString('ascii') : v;
    assert.equal(text, URI);
  } finally {
    kea?.kill('SIGKILL');
    for (const ns of [CLI, SRV]) {
      try { for (const p of sh('ip', 'netns', 'pids', ns).split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      try { sh('ip', 'netns', 'del', ns); } catch { /* gone */ }
    }
  }
});
