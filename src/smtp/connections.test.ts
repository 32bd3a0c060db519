// Connection limits per client address and per client network, and the shorter
// timers before AUTH. The peers are real Python sockets bound to distinct loopback
// source addresses (all of 127.0.0.0/8 is local on Linux).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { canUseNetns, needTools } from '../../test/lib/tools.ts';
import { connectFrom } from '../../test/lib/pyclients.ts';
import { code, startServer } from './testkit.ts';
import { RawClient } from '../../test/lib/smtpclient.ts';

const skip = needTools('python3');

test('per network (IPv4 /24) and per address: 421 4.7.0 with the reason, other networks unaffected', { skip }, async () => {
  const h = await startServer({ maxConnectionsPerIp: 2, maxConnectionsPerNetwork: 3 });
  try {
    const got = await connectFrom(h.port, ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.1.2', '127.0.1.2', '127.0.1.2'], [0], '127.0.0.6');
    assert.deepEqual(got.map((l) => l.slice(0, 3)), ['220', '220', '220', '421', '220', '220', '421', '220'], JSON.stringify(got));
    assert.equal(got[3], '421 4.7.0 mx.test Error: too many connections from your network, try again later');
    assert.equal(got[6], '421 4.7.0 mx.test Error: too many connections from your address, try again later');
    const w = h.logger.records.filter((r) => r.msg === 'too many connections');
    assert.deepEqual(w.map((r) => [r.remote, r.network]), [['127.0.0.5', '127.0.0.0/24'], ['127.0.1.2', '127.0.1.0/24']]);
  } finally {
    await h.stop();
  }
});

test('the network prefix is configurable: with /16 the two /24s are one network', { skip }, async () => {
  const h = await startServer({ maxConnectionsPerIp: 5, maxConnectionsPerNetwork: 2, ipv4NetworkPrefix: 16 });
  try {
    const got = await connectFrom(h.port, ['127.0.0.2', '127.0.1.2', '127.0.2.2']);
    assert.deepEqual(got.map((l) => l.slice(0, 3)), ['220', '220', '421'], JSON.stringify(got));
  } finally {
    await h.stop();
  }
});

test('a dual-stack listener counts an IPv4 client (::ffff:a.b.c.d) in its IPv4 /24', { skip }, async (t) => {
  let h;
  try {
    h = await startServer({ host: '::', maxConnectionsPerIp: 5, maxConnectionsPerNetwork: 2 });
  } catch {
    t.skip('no IPv6 here');
    return;
  }
  try {
    const got = await connectFrom(h.port, ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    assert.deepEqual(got.map((l) => l.slice(0, 3)), ['220', '220', '421'], JSON.stringify(got));
    assert.equal(h.logger.records.find((r) => r.msg === 'too many connections')?.network, '127.0.0.0/24');
  } finally {
    await h.stop();
  }
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('before AUTH the shorter idle timeout and session time apply, after AUTH the longer ones', async () => {
  const h = await startServer({ tls: 'none', authRequiresTls: false, preAuthIdleTimeout: 1, idleTimeout: 6, preAuthSessionTime: 2, maxSessionTime: 30 });
  const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  try {
    // Idle before AUTH: 421 after about 1 s, not 6.
    const idle = await RawClient.connect(h.port);
    await idle.reply();
    await idle.send('EHLO idle.example');
    const t0 = Date.now();
    assert.equal(await idle.reply(4000), '421 4.4.2 mx.test Error: timeout exceeded\r\n');
    assert.ok(Date.now() - t0 < 3000, `pre-AUTH idle drop after ${Date.now() - t0} ms`);
    // Busy but never authenticating: dropped at the pre-AUTH session limit (2 s), not 30.
    const busy = await RawClient.connect(h.port);
    const t1 = Date.now();
    await busy.reply();
    let last = '';
    for (let i = 0; i < 16 && !last.startsWith('421'); i++) {
      await tick(250);
      last = await busy.send('NOOP').catch(() => 'closed');
    }
    assert.equal(last, '421 4.4.2 mx.test Error: timeout exceeded\r\n');
    assert.ok(Date.now() - t1 < 3500, `pre-AUTH session drop after ${Date.now() - t1} ms`);
    // Authenticated: idle for longer than 1 s and alive past 2 s.
    const authed = await RawClient.connect(h.port);
    await authed.reply();
    await authed.send('EHLO authed.example');
    assert.equal(code(await authed.send(`AUTH PLAIN ${b64('\0user\0pass')}`)), '235');
    await tick(1500);
    assert.equal(await authed.send('NOOP'), '250 2.0.0 Ok\r\n');
    await tick(1200);
    assert.equal(await authed.send('NOOP'), '250 2.0.0 Ok\r\n');
    authed.close();
  } finally {
    await h.stop();
  }
});

test('IPv6: one /64 is one network, whatever addresses its hosts use (in a network namespace)', { skip: skip || (!canUseNetns() && 'needs network namespaces (root)') }, async () => {
  const ns = `pw-smtp-${randomBytes(3).toString('hex')}`;
  const ip = (...a: string[]): string => execFileSync('ip', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let server: ChildProcess | undefined;
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    for (const a of ['2001:db8:1::1', '2001:db8:1::2', '2001:db8:1::3', '2001:db8:1:0:a::7', '2001:db8:2::1']) ip('-n', ns, 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad');
    const testkit = new URL('./testkit.ts', import.meta.url).href;
    server = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e',
      `import { startServer } from ${JSON.stringify(testkit)};
       const h = await startServer({ host: '::1', maxConnectionsPerIp: 2, maxConnectionsPerNetwork: 3 });
       console.log(h.port);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((res, rej) => {
      server!.stdout!.once('data', (d: Buffer) => res(Number(String(d).trim())));
      server!.once('exit', (c) => rej(new Error(`server exited ${c}`)));
    });
    const got = await connectFrom(port, ['2001:db8:1::1', '2001:db8:1::1', '2001:db8:1::1', '2001:db8:1::2', '2001:db8:1:0:a::7', '2001:db8:2::1'], [], '', '::1', ['ip', 'netns', 'exec', ns]);
    assert.deepEqual(got.map((l) => l.slice(0, 9)), ['220 mx.te', '220 mx.te', '421 4.7.0', '220 mx.te', '421 4.7.0', '220 mx.te'], JSON.stringify(got));
    assert.match(got[2], /from your address/);
    assert.match(got[4], /from your network/);
  } finally {
    server?.kill();
    ip('netns', 'del', ns);
  }
});
