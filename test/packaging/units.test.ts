// The systemd units in packaging/systemd: the server binds 587/465 with
// CAP_NET_BIND_SERVICE and nothing else; the edge agent alone gets
// CAP_NET_ADMIN; both are hardened. systemd-analyze verify checks the syntax
// and every directive (a warning fails the test too: an unknown key is only a
// warning to systemd, and a misspelt hardening line would silently do nothing).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { needTools, tempDir } from '../lib/tools.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const UNITS = join(ROOT, 'packaging', 'systemd');
type Unit = Map<string, Map<string, string[]>>;

/** A unit file as section → key → values (a key may repeat; comments and blank lines dropped). */
function parseUnit(text: string): Unit {
  const u: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const h = /^\[([A-Za-z]+)\]$/.exec(line);
    if (h) { section = new Map(); u.set(h[1], section); return; }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && section, `line ${i + 1}: ${raw}`);
    section.set(kv[1], [...(section.get(kv[1]) ?? []), kv[2]]);
  });
  return u;
}

const unit = (name: string): Unit => parseUnit(readFileSync(join(UNITS, name), 'utf8'));
const one = (u: Unit, key: string): string => {
  const v = u.get('Service')?.get(key);
  assert.equal(v?.length, 1, `${key}: ${JSON.stringify(v)}`);
  return v[0];
};
const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
  ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', ProtectControlGroups: 'yes', RestrictSUIDSGID: 'yes',
  RestrictNamespaces: 'yes', LockPersonality: 'yes', SystemCallArchitectures: 'native', UMask: '0077',
};

test('portwarden.service: `portwarden start` as its own user, CAP_NET_BIND_SERVICE only, hardened, reload by SIGHUP', () => {
  const u = unit('portwarden.service');
  assert.match(one(u, 'ExecStart'), /^\/\S+\/bin\/portwarden start --config \/etc\/portwarden\/portwarden\.yaml$/);
  assert.equal(one(u, 'User'), 'portwarden');
  assert.equal(one(u, 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
  assert.equal(one(u, 'CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  assert.match(one(u, 'ExecReload'), /^\/bin\/kill -HUP \$MAINPID$/);
  assert.equal(one(u, 'ReadWritePaths'), '/var/lib/portwarden');
  for (const [k, v] of Object.entries(HARDENING)) assert.equal(one(u, k), v, k);
  assert.doesNotMatch(readFileSync(join(UNITS, 'portwarden.service'), 'utf8').replace(/^#.*$/gm, ''), /NET_ADMIN|AF_NETLINK/);
});

test('portwarden-edge.service: `portwarden policy agent`, the only unit with CAP_NET_ADMIN, and only that', () => {
  const u = unit('portwarden-edge.service');
  assert.match(one(u, 'ExecStart'), /^\/\S+\/bin\/portwarden policy agent --url https:\/\/\S+ --token-file \S+/);
  assert.equal(one(u, 'User'), 'portwarden-edge');
  assert.equal(one(u, 'AmbientCapabilities'), 'CAP_NET_ADMIN');
  assert.equal(one(u, 'CapabilityBoundingSet'), 'CAP_NET_ADMIN');
  assert.match(one(u, 'RestrictAddressFamilies'), /\bAF_NETLINK\b/, 'nft talks netlink');
  for (const [k, v] of Object.entries(HARDENING)) assert.equal(one(u, k), v, k);
});

test('systemd-analyze verify: both units, no error and no warning', { skip: needTools('systemd-analyze') }, () => {
  const dir = tempDir('pw-units-');
  try {
    // verify wants ExecStart to exist: point it at this checkout's bin/portwarden.
    const files = ['portwarden.service', 'portwarden-edge.service'].map((f) => {
      const text = readFileSync(join(UNITS, f), 'utf8').replaceAll('/opt/portwarden/bin/portwarden', join(ROOT, 'bin', 'portwarden'));
      writeFileSync(join(dir.path, f), text);
      return join(dir.path, f);
    });
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    // Only what it says about our units counts: verify also loads the units they name (network-online.target and so
    // on) and prints warnings about other packages' units installed on this machine (freeradius.service: MemoryLimit=).
    const ours = r.stderr.split('\n').filter((l) => l.includes(dir.path) || /portwarden/.test(l));
    assert.deepEqual(ours, [], 'systemd-analyze printed warnings about our units');
    // And that the check can fail: a misspelt directive is reported.
    writeFileSync(files[0], `${readFileSync(files[0], 'utf8')}\n[Service]\nProtectSytem=strict\n`);
    const bad = spawnSync('systemd-analyze', ['verify', '--man=no', files[0]], { encoding: 'utf8', timeout: 30_000 });
    assert.match(bad.stderr, /Unknown key 'ProtectSytem'/);
    assert.ok(bad.stderr.split('\n').some((l) => l.includes(dir.path) && /ProtectSytem/.test(l)), 'a warning about our unit passes the filter above');
  } finally {
    dir.remove();
  }
});
