// Nothing an edge or a policy client sends can hurt the server (issue 10, item
// 12): the real portwarden process with the edge endpoint (HTTPS), the Postfix
// policy service and /metrics on, fed hostile requests by curl and raw sockets;
// each gets a status or a closed connection, and afterwards the process is
// alive and a real swaks session submits a message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { CaptureSink } from '../lib/sink.ts';
import { MAIN, NODE, Portwarden, run, startWithSink } from '../lib/portwarden.ts';
import { PolicyClient } from '../../src/postfix/testkit.ts';
import { needTools, tempDir, until } from '../lib/tools.ts';

const skip = needTools('swaks', 'curl', 'openssl');
const T1 = 'edge1-token-0123456789abcdef', T2 = 'edge2-token-0123456789abcdef';
const MAX_CONN = 8;
/** MAX_CONN + surplus connections to port; waits for the server to close the surplus, then drops them all. */
async function overCap(port: number, surplus: number): Promise<void> {
  const socks = Array.from({ length: MAX_CONN + surplus }, () => netConnect(port, '127.0.0.1'));
  let closed = 0;
  for (const s of socks) { s.on('error', () => {}); s.on('close', () => { closed++; }); }
  await until(() => closed >= surplus, `the server closing the ${surplus} connections over its cap`, 5000);
  for (const s of socks) s.destroy();
}
const RCPT = { request: 'smtpd_access_policy', protocol_state: 'RCPT', client_address: '192.0.2.10', sasl_username: 'alice@isp.example', sender: 'alice@isp.example', recipient: 'r@dest.example', instance: 'i1' };

describe('hostile edge reports and policy requests', { skip }, () => {
  let sink: CaptureSink, pw: Portwarden, dir: ReturnType<typeof tempDir>, ca = '', base = '';
  before(async () => {
    dir = tempDir('pw-edge-e2e-');
    writeFileSync(join(dir.path, 'tokens'), `# edge routers\nedge1 ${T1}\nedge2 ${T2}\n`);
    ({ sink, pw } = await startWithSink({
      accounts: [{ login: 'alice@isp.example', password: 'alice-pass-1' }],
      extraYaml: [
        `netpolicy: {listen: "127.0.0.1:0", tokenFile: "${join(dir.path, 'tokens')}", maxConnections: ${MAX_CONN}}`,
        `policyService: {listen: "127.0.0.1:0", maxConnections: ${MAX_CONN}}`,
        'metrics: {listen: "127.0.0.1:0"}',
      ].join('\n'),
    }));
    ca = join(pw.dir, 'data', 'tls', 'cert.pem');
    base = `https://127.0.0.1:${pw.port('netpolicy')}/v1/netpolicy`;
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
    dir?.remove();
  });

  /** curl POSTs a file to /report; returns the HTTP status (0 when the connection failed). */
  const post = async (body: string, opts: { token?: string; chunked?: boolean } = {}): Promise<{ status: number; body: string }> => {
    const f = join(dir.path, 'body');
    writeFileSync(f, body);
    const r = await run('curl', ['-sS', '--cacert', ca, '-H', `Authorization: Bearer ${opts.token ?? T1}`, '-H', 'Content-Type: application/json',
      ...(opts.chunked ? ['-H', 'Transfer-Encoding: chunked'] : []), '--data-binary', `@${f}`, '-w', '\n%{http_code}', `${base}/report`]);
    const nl = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
  };
  const report = (blocked: unknown[], edge = 'edge1') => JSON.stringify({ edge, version: '', blocked });
  const tls = (): Promise<TLSSocket> => new Promise((res, rej) => {
    const s = tlsConnect({ host: '127.0.0.1', port: pw.port('netpolicy'), ca: readFileSync(ca) }, () => res(s));
    s.on('error', rej);
  });

  test('oversized, overlong, malformed and forged reports each get a status', async () => {
    assert.equal((await post('x'.repeat(8 * 1024 * 1024))).status, 413, 'an 8 MiB body');
    const million = report(Array.from({ length: 1_000_000 }, (_, i) => ({ source: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, packets: 1, destinations: 1 })));
    assert.equal((await post(million)).status, 413, 'a million entries');
    assert.equal((await post(million, { chunked: true })).status, 413, 'a million entries, chunked (no Content-Length)');
    assert.equal((await post(report(Array.from({ length: 10_001 }, () => 0)))).status, 413, 'more entries than maxReportEntries');
    assert.equal((await post('{"edge":"edge1","blocked":[')).status, 400, 'garbage JSON');
    assert.equal((await post('"just a string"')).status, 422, 'JSON of the wrong shape');
    assert.equal((await post(report([{ source: '198.51.100.1', packets: 1, destinations: 1 }]), { token: T2 })).status, 403, 'edge2 speaking for edge1');
  });

  test('duplicate and non-IP sources: one canonical row each, the rest counted as rejected', async () => {
    const r = await post(report([
      { source: '198.51.100.7', packets: 2, destinations: 3 }, { source: '198.51.100.7', packets: 9, destinations: 1 },
      { source: '2001:DB8::0:7', packets: 1, destinations: 1 }, { source: '2001:db8::7', packets: 1, destinations: 2 },
      { source: 'not-an-ip', packets: 1, destinations: 1 }, { source: '198.51.100.0/24', packets: 1, destinations: 1 }, { source: '\u001b[2J' },
    ]));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { accepted: 2, rejected: 3, duplicates: 2 });
    const rows = JSON.parse((await pw.cli(['policy', 'blocked', '--json'])).stdout) as Array<{ source: string; packets: number; destinations: number }>;
    assert.deepEqual(rows.map((b) => [b.source, b.packets, b.destinations]), [['198.51.100.7', 9, 3], ['2001:db8::7', 1, 2]]);
  });

  test('abrupt disconnects, non-TLS bytes and surplus connections cost only themselves', async () => {
    // Headers promising a body, part of it, then gone.
    const s1 = await tls();
    s1.write(`POST /v1/netpolicy/report HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T1}\r\nContent-Length: 100000\r\n\r\n{"edge":"edge1","blocked":[`);
    await new Promise((r) => setTimeout(r, 50));
    s1.destroy();
    // A handshake and nothing else; plain-text HTTP on the TLS port.
    (await tls()).destroy();
    await new Promise<void>((res) => {
      const s = netConnect(pw.port('netpolicy'), '127.0.0.1', () => s.end('GET / HTTP/1.1\r\n\r\n'));
      s.on('error', () => res());
      s.on('close', () => res());
    });
    // More connections than netpolicy.maxConnections: the surplus is closed by the server.
    await overCap(pw.port('netpolicy'), 6);
    // Once the server has seen them go, a sound report goes through.
    await until(async () => (await post(report([{ source: '198.51.100.7', packets: 1, destinations: 1 }]))).status === 200, 'a sound report accepted', 10_000, 100);
  });

  test('the policy service closes connections over policyService.maxConnections', async () => {
    await overCap(pw.port('policy'), 4);
    await until(async () => {
      const c = await PolicyClient.open(pw.port('policy'));
      c.send(RCPT);
      const a = await c.read(1000).catch(() => null);
      c.close();
      return a === 'DUNNO';
    }, 'a policy request answered again', 10_000, 100);
  });

  test('a 10 MB policy-service line closes that connection only', async () => {
    const c = await PolicyClient.open(pw.port('policy'));
    c.writeRaw(`request=smtpd_access_policy\nsender=${'a'.repeat(10 * 1024 * 1024)}\n\n`);
    assert.equal(await c.read(5000), null, 'closed');
    const d = await PolicyClient.open(pw.port('policy'));
    d.send(RCPT);
    assert.equal(await d.read(), 'DUNNO');
    d.close();
  });

  test('afterwards the process is alive, /metrics answers and a real SMTP session submits', async () => {
    assert.ok(pw.running, 'portwarden is still running');
    const m = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${pw.port('metrics')}/metrics`]);
    assert.equal(m.stdout, '200');
    const s = await run('swaks', ['--server', '127.0.0.1', '--port', String(pw.port('submission')), '--tls', '--auth', 'PLAIN',
      '--auth-user', 'alice@isp.example', '--auth-password', 'alice-pass-1', '--from', 'alice@isp.example', '--to', 'bob@example.net']);
    assert.match(s.stdout, /<~ {2}250 2\.0\.0 Ok: queued/, s.stdout);
    assert.ok(pw.logs.some((l) => l.msg === 'netpolicy: report entries refused'), 'the refused entries were logged');
  });
});

test('a token file in the old bare-token format stops the start with its file and line', { skip }, async () => {
  const dir = tempDir('pw-edge-old-');
  const sink = new CaptureSink();
  try {
    const file = join(dir.path, 'tokens');
    writeFileSync(file, `${T1}\n`);
    const yaml = join(dir.path, 'pw.yaml');
    writeFileSync(yaml, `relay: {smarthost: "127.0.0.1:25"}\nnetpolicy: {listen: "127.0.0.1:0", tokenFile: "${file}"}\n`);
    const check = await run(NODE, [MAIN, 'config', 'check', '--config', yaml]);
    assert.equal(check.code, 1, 'config check refuses what start refuses');
    assert.match(check.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:1: a bare token cannot be bound`));
    await assert.rejects(Portwarden.start({
      smarthost: `127.0.0.1:${await sink.listen()}`,
      extraYaml: `netpolicy: {listen: "127.0.0.1:0", tokenFile: "${file}"}`,
    }), new RegExp(`exited with 1: .*${file.replace(/[.]/g, '\\.')}:1: a bare token cannot be bound to an edge; write "EDGE-NAME TOKEN"`, 's'));
  } finally {
    await sink.close();
    dir.remove();
  }
});
