// Trying portwarden as a new user would (issue 10, item 19): every config that
// `start` refuses is refused by `config check` first, with the same file:line
// message; a port that cannot be bound stops the whole start; bin/portwarden
// runs through a symlink; --version; exit codes 2 for usage, 1 for failures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { MAIN, NODE, ROOT, run } from '../lib/portwarden.ts';
import { freePort, needTools, tempDir, until } from '../lib/tools.ts';

const skip = needTools('openssl');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

describe('a new user: config check, start, the command itself', { skip }, () => {
  let dir: { path: string; remove(): void };
  before(() => { dir = tempDir('pw-newuser-'); });
  after(() => dir?.remove());

  const pw = (args: string[], opts: { input?: string; timeout?: number } = {}) => run(NODE, [MAIN, ...args], { timeout: 20000, ...opts });
  const base = (port1: number, port2: number) => [
    'hostname: msa.isp.example',
    'dataDir: ./data',
    'listeners:',
    `  - {name: submission, host: 127.0.0.1, port: ${port1}, tls: starttls}`,
    `  - {name: submissions, host: 127.0.0.1, port: ${port2}, tls: implicit}`,
    'relay: {smarthost: "127.0.0.1:10025"}',
  ].join('\n') + '\n';

  let n = 0;
  async function config(extra: string, ports?: [number, number]): Promise<string> {
    const file = join(dir.path, `case-${++n}.yaml`);
    const [a, b] = ports ?? [await freePort(), await freePort()];
    writeFileSync(file, base(a, b) + extra);
    return file;
  }

  // Each: extra YAML, and the message both commands must print (after "file:line:col: ").
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const cases: Array<{ name: string; yaml: () => string; line: number; message: RegExp }> = [
    { name: 'an unknown defaultTier', line: 8, message: /limits\.defaultTier: must name a tier/,
      yaml: () => 'limits:\n  defaultTier: gold\n  tiers:\n    residential:\n      - {name: m, scope: account, counts: messages, per: hour, limit: 5}\n' },
    { name: 'a redisUrl that is no URL', line: 9, message: /limits\.redisUrl: .*redis:\/\/HOST:PORT/,
      yaml: () => 'limits:\n  store: redis\n  redisUrl: "not a url"\n' },
    { name: 'a trustedNetworks entry that is no CIDR', line: 8, message: /limits\.trustedNetworks\.1: not an address or CIDR: "10\.0\.0\.0\/33"/,
      yaml: () => 'limits:\n  trustedNetworks: ["192.0.2.0/24", "10.0.0.0/33"]\n' },
    { name: 'a DKIM key file that does not exist', line: 8, message: /dkim\.0\.keyFile: cannot read .*missing\.pem/,
      yaml: () => `dkim:\n  - {domain: isp.example, selector: s1, keyFile: ${join(dir.path, 'missing.pem')}}\n` },
    { name: 'a DKIM key file that holds no key', line: 8, message: /dkim\.0\.keyFile: .*not a readable private key/,
      yaml: () => { writeFileSync(join(dir.path, 'junk.pem'), 'not a key\n'); return `dkim:\n  - {domain: isp.example, selector: s1, keyFile: ${join(dir.path, 'junk.pem')}}\n`; } },
    { name: 'a DKIM key of the wrong type', line: 8, message: /dkim\.0\.keyFile: .*key is rsa, algorithm says ed25519/,
      yaml: () => { writeFileSync(join(dir.path, 'rsa.pem'), rsa); return `dkim:\n  - {domain: isp.example, selector: s1, algorithm: ed25519-sha256, keyFile: ${join(dir.path, 'rsa.pem')}}\n`; } },
    { name: 'a certificate file that does not exist', line: 7, message: /tls\.cert: cannot read/,
      yaml: () => `tls: {cert: ${join(dir.path, 'nocert.pem')}, key: ${join(dir.path, 'nokey.pem')}}\n` },
    { name: 'a netpolicy token file that does not exist', line: 7, message: /netpolicy\.tokenFile: cannot read/,
      yaml: () => `netpolicy: {listen: "127.0.0.1:0", tokenFile: ${join(dir.path, 'notokens')}}\n` },
  ];

  for (const c of cases) {
    test(`config check and start both refuse ${c.name}, naming file:line`, async () => {
      const file = await config(c.yaml());
      const at = new RegExp(`^${file.replace(/[.]/g, '\\.')}:${c.line}:\\d+: ${c.message.source}`, 'm');
      const check = await pw(['config', 'check', '--config', file]);
      assert.equal(check.code, 1, `config check: ${check.stdout}${check.stderr}`);
      assert.match(check.stderr, at);
      const start = await pw(['start', '--config', file]);
      assert.equal(start.code, 1, `start: ${start.stderr}`);
      assert.match(start.stderr, at);
    });
  }

  test('hostname left at localhost: config check passes with a warning that says why it matters', async () => {
    const file = await config('');
    writeFileSync(file, readFileSync(file, 'utf8').replace('hostname: msa.isp.example', 'hostname: localhost'));
    const r = await pw(['config', 'check', '--config', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^warning: ${file.replace(/[.]/g, '\\.')}:1:\\d+: hostname: "localhost" is not this server's public name: .*EHLO`, 'm'));
    assert.match(r.stdout, /: ok$/m);
  });

  test('two listeners on one port, or a listener and /metrics: config check and start refuse it', async () => {
    const port = await freePort();
    const same = await config('', [port, port]);
    const r1 = await pw(['config', 'check', '--config', same]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, new RegExp(`${same.replace(/[.]/g, '\\.')}:5:\\d+: listeners\\.1\\.port: 127\\.0\\.0\\.1:${port} is also used by listeners\\.0 \\(submission\\)`));
    const s1 = await pw(['start', '--config', same]);
    assert.equal(s1.code, 1, s1.stderr);
    assert.match(s1.stderr, /listeners\.1\.port: 127\.0\.0\.1:\d+ is also used by listeners\.0/);
    const other = await freePort();
    const wild = await config(`metrics: {listen: "0.0.0.0:${other}"}\n`, [other, await freePort()]);
    const r2 = await pw(['config', 'check', '--config', wild]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, new RegExp(`:7:\\d+: metrics\\.listen: 0\\.0\\.0\\.0:${other} is also used by listeners\\.0`));
  });

  test('a port already taken stops the whole start: exit 1 and one line naming the listener and address', async () => {
    const busy = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((res) => holder.listen(busy, '127.0.0.1', res));
    try {
      for (const [what, yaml, ports] of [
        ['submissions', '', async () => [await freePort(), busy]],
        ['metrics', `metrics: {listen: "127.0.0.1:${busy}"}\n`, async () => [await freePort(), await freePort()]],
        ['policy', `policyService: {listen: "127.0.0.1:${busy}"}\n`, async () => [await freePort(), await freePort()]],
      ] as const) {
        const file = await config(yaml, await ports() as [number, number]);
        const t0 = Date.now();
        const r = await pw(['start', '--config', file], { timeout: 15000 });
        assert.equal(r.code, 1, `${what}: exit ${r.code} after ${Date.now() - t0} ms: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^portwarden start: cannot listen for ${what} on 127\\.0\\.0\\.1:${busy}: address already in use$`, 'm'));
      }
    } finally {
      await new Promise<void>((res) => holder.close(() => res()));
    }
  });

  test('port 587 as an unprivileged user: refused with a pointer to the README, then bound with the ambient capability it describes', { skip: process.getuid?.() !== 0 ? 'needs root to switch to nobody' : needTools('setpriv') }, async () => {
    const home = tempDir('pw-587-');
    try {
      chmodSync(home.path, 0o777);
      const file = join(home.path, 'pw.yaml');
      // 587 on loopback only: nothing outside this host can reach it.
      writeFileSync(file, base(587, 0).replace('port: 0, tls: implicit', `port: ${await freePort()}, tls: implicit`));
      chmodSync(file, 0o644);
      const asNobody = (caps: string[]) => run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...caps, NODE, MAIN, 'start', '--config', file], { timeout: 20000 });
      const refused = await asNobody([]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /^portwarden start: cannot listen for submission on 127\.0\.0\.1:587: permission denied \(a port below 1024 needs CAP_NET_BIND_SERVICE: see README "Ports 587 and 465 without root"\)$/m);
      // What systemd's AmbientCapabilities=CAP_NET_BIND_SERVICE does: the start gets past the bind (and is stopped).
      // setpriv execs Node, so the child's pid is the server's.
      const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service',
        NODE, MAIN, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      try {
        await until(() => /"event":"started"/.test(out) || child.exitCode !== null, 'the start', 15000, 50);
        assert.match(out, /"event":"listening","listener":"submission","host":"127\.0\.0\.1","port":587/, out);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, out);
    } finally {
      home.remove();
    }
  });

  test('bin/portwarden through a symlink elsewhere (npm install -g, /usr/local/bin) finds its own Node and code', async () => {
    const link = join(dir.path, 'portwarden');
    symlinkSync(join(ROOT, 'bin', 'portwarden'), link);
    const r = await run(link, ['--version'], { env: { ...process.env, PATH: '/usr/bin:/bin' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `portwarden ${VERSION}`);
    // A link to the link (what npx and some package managers make) works too.
    const link2 = join(dir.path, 'pw2');
    symlinkSync(link, link2);
    assert.equal((await run(link2, ['--version'], { env: { ...process.env, PATH: '/usr/bin:/bin' } })).stdout.trim(), `portwarden ${VERSION}`);
  });

  test('--version prints the package version', async () => {
    for (const flag of ['--version', '-V', 'version']) {
      const r = await pw([flag]);
      assert.equal(r.code, 0, flag);
      assert.equal(r.stdout.trim(), `portwarden ${VERSION}`);
    }
  });

  test('accounts: an unknown tier is refused, no --tier means the configured defaultTier; passwords below the minimum are refused', async () => {
    const file = await config([
      'limits:', '  defaultTier: standard', '  tiers:',
      '    standard:', '      - {name: m, scope: account, counts: messages, per: hour, limit: 50}',
      '    gold:', '      - {name: m, scope: account, counts: messages, per: hour, limit: 500}',
      'accounts: {minPasswordLength: 14}',
    ].join('\n') + '\n');
    const cfg = ['--config', file];
    const bad = await pw(['account', 'add', 'a@isp.example', '--password-stdin', '--tier', 'premium', ...cfg], { input: 'fourteen-chars\n' });
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /unknown tier "premium" \(configured: standard, gold\)/);
    const ok = await pw(['account', 'add', 'a@isp.example', '--password-stdin', ...cfg], { input: 'fourteen-chars\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /tier standard/);
    const gold = await pw(['account', 'add', 'b@isp.example', '--password-stdin', '--tier', 'gold', ...cfg], { input: 'fourteen-chars\n' });
    assert.equal(gold.code, 0, gold.stderr);
    // 13 characters (code points: "ü" is one) against a minimum of 14, for add and for passwd.
    const short = await pw(['account', 'add', 'c@isp.example', '--password-stdin', ...cfg], { input: 'thirteen-chü\n'.replace('\n', 'r\n') });
    assert.equal(short.code, 1, short.stderr);
    assert.match(short.stderr, /password has 13 characters; at least 14 are needed \(accounts\.minPasswordLength\)/);
    const passwd = await pw(['account', 'passwd', 'a@isp.example', '--password-stdin', ...cfg], { input: 'short\n' });
    assert.equal(passwd.code, 1, passwd.stderr);
    assert.match(passwd.stderr, /at least 14/);
    const list = await pw(['account', 'list', '--json', ...cfg]);
    assert.deepEqual(JSON.parse(list.stdout).map((a: { login: string; tier: string }) => `${a.login} ${a.tier}`), ['a@isp.example standard', 'b@isp.example gold']);
  });

  test('the README links nothing outside the repository', () => {
    for (const doc of ['README.md', 'src/README.md']) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      for (const m of text.matchAll(/\]\(([^)]+)\)/g)) assert.fail(`${doc}: a link to ${m[1]}`);
      assert.doesNotMatch(text, /\.\.\/[A-Za-z]/, `${doc}: a path outside the repository`);
      // Addresses in examples only: documentation names (RFC 2606 .example, RFC 5737 192.0.2.0/24) and placeholders.
      for (const m of text.matchAll(/https?:\/\/([^/\s:`'")]+)/g)) {
        assert.match(m[1], /^(HOST|SERVER|192\.0\.2\.\d+|127\.0\.0\.1|[a-z0-9.-]+\.example)$/, `${doc}: ${m[0]}`);
      }
    }
  });

  test('exit codes: 2 when the command line cannot be understood, 1 when a well-formed command fails', async () => {
    const file = await config('');
    const cfg = ['--config', file];
    const usage: string[][] = [
      ['no-such-command'],
      ['config'],
      ['config', 'check', '--bogus', ...cfg],
      ['init', '--bogus', ...cfg],
      ['start', '--bogus', ...cfg],
      ['account', 'add', '--bogus', ...cfg],
      ['account', 'add', ...cfg],
      ['account', 'passwd', ...cfg],
      ['account', 'frobnicate', 'x', ...cfg],
      ['queue', 'wait-empty', '--timeout', 'abc', ...cfg],
      ['queue', 'wait-empty', '--timeout', '-1', ...cfg],
      ['queue', 'show', ...cfg],
      ['queue', 'list', '--bogus', ...cfg],
      ['limits', 'show', ...cfg],
      ['trace', ...cfg],
      ['dkim', 'keygen', ...cfg],
      ['policy', 'pool', 'add', ...cfg],
      ['policy', 'pool', 'list', '--bogus', ...cfg],
    ];
    for (const args of usage) {
      const r = await pw(args, { input: 'a-long-enough-password\n', timeout: 10000 });
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
      assert.match(r.stderr + r.stdout, /usage|unknown/i, args.join(' '));
    }
    const failures: string[][] = [
      ['config', 'check', '--config', join(dir.path, 'absent.yaml')],
      ['account', 'passwd', 'nobody@isp.example', ...cfg],
      ['account', 'remove', 'nobody@isp.example', ...cfg],
      ['queue', 'show', 'NOSUCHID', ...cfg],
      ['queue', 'hold', 'ALL', ...cfg], // no server runs
    ];
    for (const args of failures) {
      const r = await pw(args, { input: 'a-long-enough-password\n', timeout: 10000 });
      assert.equal(r.code, 1, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    }
  });
});
