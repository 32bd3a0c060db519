// The zombie lifecycle end to end (issue 12, "How it is tested"): the real
// portwarden process with its edge endpoint, RADIUS accounting server, abuse
// mailbox and engine; the real edge agent applying nft into the lab's edge
// router; addresses handed out by RADIUS accounting that FreeRADIUS's radclient
// sends; two bots in the dynamic pool trying outside port 25 at bot rates, one
// legitimate subscriber browsing and using the provider's relay. The bots are
// quarantined at the edge and reach only the garden; the legitimate one is
// untouched; an ARF complaint about a bot's address at a past time goes to
// whoever held it then; a kill -9 loses no case, evidence or decision; a desk
// release gives the bot its network back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink } from '../lib/sink.ts';
import { MAIN, NODE, Portwarden, run, startWithSink } from '../lib/portwarden.ts';
import { radclient, packet } from '../lib/radclient.ts';
import { canUseNetns, needTools, tempDir, until } from '../lib/tools.ts';
import { Lab, type HostName } from './lab.ts';

const skip = needTools('nft', 'ip', 'python3', 'radclient', 'swaks', 'curl') || (canUseNetns() ? false : 'needs root for network namespaces');
const TOKEN = `bng1-${randomBytes(12).toString('hex')}`;
const SECRET = 'radius-secret-for-the-lab';
// The lab's hosts, in the roles of this test: two bots and one ordinary subscriber, all in the dynamic pool.
const BOT1: HostName = 'quar', BOT2: HostName = 'exempt', LEGIT: HostName = 'dyn';
const SUBS: Record<string, HostName> = { alice: BOT1, bob: BOT2, carol: LEGIT };

// A bot: connections to outside port 25 of many addresses, ~5 a second, for at most `secs` seconds (bounded).
const BOT = `
import socket, sys, time
base, secs = sys.argv[1], float(sys.argv[2])
end = time.time() + secs; i = 0
while time.time() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.settimeout(0.5)
    try: s.connect((base + str(100 + i % 150), 25))
    except OSError: pass
    finally: s.close()
    i += 1; time.sleep(0.2)
`;

let lab: Lab, sink: CaptureSink, pw: Portwarden, dir: ReturnType<typeof tempDir>, agent: ChildProcess | undefined;
const bots: ChildProcess[] = [];
let agentOut = '';

async function cliJson<T>(args: string[]): Promise<T> {
  return JSON.parse((await pw.cli([...args, '--json'])).stdout) as T;
}

function startAgent(): void {
  const ca = join(pw.dir, 'data', 'tls', 'cert.pem');
  agent = spawn(NODE, [MAIN, 'policy', 'agent', '--url', `https://127.0.0.1:${pw.port('netpolicy')}`, '--token-file', join(dir.path, 'edge-token'),
    '--ca', ca, '--netns', lab.edge, '--config', join(dir.path, 'edge.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d) => { agentOut = (agentOut + d).slice(-4000); });
  agent.stderr!.on('data', (d) => { agentOut = (agentOut + d).slice(-4000); });
}

async function stopAgent(): Promise<void> {
  const a = agent;
  agent = undefined;
  if (!a || a.exitCode !== null) return;
  a.kill('SIGTERM');
  await new Promise((r) => a.once('exit', r));
}

/** The elements of the edge's IPv4 quarantine set, as nft lists them. */
const nftQuarantine = (): string => lab.exec(lab.edge, ['nft', 'list', 'set', 'inet', 'portwarden', 'quarantine4']);

before(async () => {
  if (skip) return;
  lab = new Lab();
  await lab.create();
  await lab.serveHttp('notice', 80, 'NOTICE-PAGE');
  await lab.serveHttp('web', 80, 'OUTSIDE-WEB');
  dir = tempDir('pw-zombie-');
  writeFileSync(join(dir.path, 'tokens'), `bng1 ${TOKEN}\n`);
  writeFileSync(join(dir.path, 'edge-token'), `bng1 ${TOKEN}\n`);
  writeFileSync(join(dir.path, 'edge.yaml'), 'relay: {smarthost: "127.0.0.1:25"}\ndataDir: ./edge-data\n');
  writeFileSync(join(dir.path, 'radius-clients'), `127.0.0.1 ${SECRET}\n::1 ${SECRET}\n`);
  chmodSync(join(dir.path, 'radius-clients'), 0o600);
  ({ sink, pw } = await startWithSink({
    accounts: [{ login: 'carol@isp.example', password: 'carol-pass-1', subscriber: 'carol' }],
    extraYaml: [
      `netpolicy: {listen: "127.0.0.1:0", tokenFile: "${join(dir.path, 'tokens')}"}`,
      `directory: {radiusListen: "127.0.0.1:0", radiusSecretFile: "${join(dir.path, 'radius-clients')}"}`,
      'abuse:',
      '  mailbox: {listen: "127.0.0.1:0", domains: [isp.example]}',
      '  notices: {from: "abuse@isp.example", pageUrl: "https://portal.isp.example/notice"}',
    ].join('\n'),
  }));
  const by = ['--reason', 'lab', '--by', 'test'];
  await pw.cli(['policy', 'pool', 'add', '198.51.100.0/24', '--class', 'dynamic', ...by]);
  await pw.cli(['policy', 'pool', 'add', '2001:db8:1::/64', '--class', 'dynamic', ...by]);
  for (const f of [4, 6] as const) {
    await pw.cli(['policy', 'relay', 'add', lab.addr('relay', f), '--kind', 'provider', ...by]);
    await pw.cli(['policy', 'garden', 'add', lab.addr('relay', f), '--proto', 'tcp', '--ports', '80,587', ...by]);
  }
  // The garden's notice page: a quarantined host's HTTP goes there (a stand-in server in the lab answers a marker).
  await pw.cli(['policy', 'edge', 'set', '--notice4', lab.addr('notice', 4), '--notice6', `[${lab.addr('notice', 6)}]:80`, '--reason', 'lab', '--by', 'test']);
  for (const s of Object.keys(SUBS)) await pw.cli(['subscriber', 'put', s, '--tier', 'residential', '--contact', `${s}@home.example`, '--access', `radius:${s}`]);
  startAgent();
  await until(async () => (await cliJson<Array<{ edge: string; version: string }>>(['policy', 'edges'])).some((e) => e.edge === 'bng1' && e.version.length === 32),
    `the agent applying its first policy (agent said: ${agentOut})`, 20_000, 250);
});

after(async () => {
  if (skip) return;
  for (const b of bots) b.kill('SIGKILL');
  await stopAgent();
  await pw?.destroy();
  await sink?.close();
  lab?.destroy();
  dir?.remove();
});

const radius = (): string => `127.0.0.1:${pw.port('radius-accounting')}`;
/** A BNG's accounting record of a host's session: its IPv4 address and (RFC 6911) IPv6 address. */
const accounting = (user: string, status: string, host: HostName, session: string, at: number) =>
  packet({ 'User-Name': user, 'Acct-Status-Type': status, 'Acct-Session-Id': session, 'Framed-IP-Address': lab.addr(host, 4), 'Framed-IPv6-Address': lab.addr(host, 6),
    'Event-Timestamp': Math.floor(at / 1000), 'NAS-Identifier': 'bng1' });

test('bots are quarantined at the edge within a minute, the legitimate subscriber is untouched, a past complaint finds the past holder, a kill -9 loses nothing, a release restores', { skip, timeout: 240_000 }, async () => {
  const now = Date.now();
  // dave held BOT1's address two hours ago, for an hour; then alice, bob and carol got their addresses now.
  let r = await radclient(radius(), SECRET, [accounting('dave', 'Start', BOT1, 'd-1', now - 2 * 3600_000)]);
  assert.equal(r.code, 0, r.out);
  r = await radclient(radius(), SECRET, [accounting('dave', 'Stop', BOT1, 'd-1', now - 3600_000)]);
  assert.equal(r.code, 0, r.out);
  for (const [user, host] of Object.entries(SUBS)) {
    r = await radclient(radius(), SECRET, [accounting(user, 'Start', host, `${user}-1`, now - 60_000)]);
    assert.equal(r.code, 0, r.out);
  }
  const who = await cliJson<{ holders: Array<{ subscriber: string }> }>(['address', 'who', lab.addr(BOT1, 4)]);
  assert.deepEqual(who.holders.map((h) => h.subscriber), ['alice']);

  // The bots start; the legitimate subscriber browses and reaches the relay meanwhile.
  const started = Date.now();
  for (const h of [BOT1, BOT2]) bots.push(spawn('ip', ['netns', 'exec', lab.hosts[h].ns, 'python3', '-c', BOT, '192.0.2.', '75'], { stdio: 'ignore' }));
  // (It never tries port 25 outside: one such try would be evidence, and the point here is a subscriber with none.)
  lab.matrix(LEGIT, [['outside', 80, 'open'], ['relay', 587, 'open']]);
  type Case = { id: string; subscriber: string; state: string; active: Array<{ action: string }> };
  const quarantined = async (): Promise<Case[]> => (await cliJson<Case[]>(['case', 'list'])).filter((c) => c.active.some((a) => a.action === 'quarantine'));
  await until(async () => (await quarantined()).length >= 2, `both bots quarantined (agent said: ${agentOut})`, 90_000, 500);
  await until(() => nftQuarantine().includes(lab.addr(BOT1, 4)) && nftQuarantine().includes(lab.addr(BOT2, 4)), 'the quarantine at the edge', 20_000, 250);
  const enforcedAt = Date.now();
  for (const b of bots.splice(0)) b.kill('SIGKILL');
  const q = await quarantined();
  assert.deepEqual(q.map((c) => c.subscriber).sort(), ['alice', 'bob']);
  // Figure for the note (time from the first blocked attempt to the edge enforcing): the engine's case.enforced lines.
  const enforced = pw.logsOf('case-enforced');
  process.stdout.write(`# time to quarantine at the edge: ${Math.round((enforcedAt - started) / 1000)} s; case.enforced lines: ${JSON.stringify(enforced.map((e) => e.ms))}\n`);

  // The bots reach only the garden; the legitimate subscriber is as before and has no case.
  lab.matrix(BOT1, [['relay', 80, 'open'], ['relay', 587, 'open'], ['outside', 465, 'blocked'], ['outside', 25, 'blocked'], ['outside', 587, 'blocked']]);
  lab.matrix(LEGIT, [['outside', 80, 'open'], ['outside', 465, 'open'], ['relay', 587, 'open']]);
  for (const f of [4, 6] as const) {
    const web = f === 4 ? `http://${lab.addr('web', f)}/` : `http://[${lab.addr('web', f)}]/`;
    assert.equal(lab.httpGet(BOT1, web), 'NOTICE-PAGE', `IPv${f}: the bot's web traffic lands on the notice page`);
    assert.equal(lab.httpGet(BOT2, web), 'NOTICE-PAGE', `IPv${f}: the other bot's too`);
    assert.equal(lab.httpGet(LEGIT, web), 'OUTSIDE-WEB', `IPv${f}: the legitimate subscriber browses as before`);
  }
  assert.ok(!(await cliJson<Case[]>(['case', 'list'])).some((c) => c.subscriber === 'carol'), 'no case for the legitimate subscriber');
  const sub = await run('swaks', ['--server', '127.0.0.1', '--port', String(pw.port('submission')), '--timeout', '15', '--tls', '--auth', 'PLAIN',
    '--auth-user', 'carol@isp.example', '--auth-password', 'carol-pass-1', '--from', 'carol@isp.example', '--to', 'friend@dest.example']);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);

  // An ARF complaint about BOT1's address ninety minutes ago: dave's, not alice's.
  const past = new Date(now - 90 * 60_000).toUTCString();
  const arf = [
    'From: fbl@mailbox.example', 'To: abuse@isp.example', 'Subject: FW: spam report', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'A spam report.', '',
    '--b1', 'Content-Type: message/feedback-report', '', 'Feedback-Type: abuse', 'User-Agent: lab/1.0', 'Version: 1',
    `Source-IP: ${lab.addr(BOT1, 4)}`, `Arrival-Date: ${past}`, '', '--b1', 'Content-Type: message/rfc822', '',
    'From: someone@spam.example', 'To: victim@mailbox.example', 'Subject: cheap pills', `Date: ${past}`, '', 'buy now', '', '--b1--', '',
  ].join('\r\n');
  const sent = await run('swaks', ['--server', `127.0.0.1:${pw.port('abuse-mailbox')}`, '--from', 'fbl@mailbox.example', '--to', 'abuse@isp.example', '--data', '-'], { input: arf });
  assert.equal(sent.code, 0, sent.stdout + sent.stderr);
  await until(async () => (await cliJson<Case[]>(['case', 'list'])).some((c) => c.subscriber === 'dave'), 'a case for dave, the past holder', 10_000, 250);
  const aliceCase = q.find((c) => c.subscriber === 'alice')!;
  const before = await cliJson<{ evidence: unknown[]; timeline: unknown[]; active: Array<{ action: string }> }>(['case', 'show', aliceCase.id]);
  assert.ok(!before.evidence.some((e) => (e as { class: string }).class === 'report'), "the complaint is not on alice's case");

  // kill -9 and start again: every case, its evidence and its decision are there; the edge keeps enforcing.
  await stopAgent();
  await pw.kill();
  await pw.restart();
  startAgent();
  const afterRestart = await cliJson<{ evidence: unknown[]; timeline: unknown[]; active: Array<{ action: string }> }>(['case', 'show', aliceCase.id]);
  assert.deepEqual(afterRestart.evidence, before.evidence);
  assert.deepEqual(afterRestart.timeline.slice(0, before.timeline.length), before.timeline);
  assert.deepEqual(afterRestart.active, before.active);
  assert.equal(afterRestart.active.filter((a) => a.action === 'quarantine').length, 1);
  assert.equal((await quarantined()).length, 2);

  // The desk releases alice: her address leaves the quarantine at the edge and the outside is hers again.
  await pw.cli(['case', 'release', aliceCase.id, '--reason', 'cleaned, customer called']);
  await until(() => !nftQuarantine().includes(lab.addr(BOT1, 4)), 'the release at the edge', 20_000, 250);
  lab.matrix(BOT1, [['outside', 465, 'open'], ['outside', 25, 'blocked']]);
  assert.equal(lab.httpGet(BOT1, `http://${lab.addr('web', 4)}/`), 'OUTSIDE-WEB');
  assert.equal(lab.httpGet(BOT2, `http://${lab.addr('web', 4)}/`), 'NOTICE-PAGE', 'the other bot is still in the garden');
});
