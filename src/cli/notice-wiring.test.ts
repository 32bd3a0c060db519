import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryLogger } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import { Spool } from '../spool/index.ts';
import { Relay } from '../relay/index.ts';
import { createMetrics, subscribeMetrics } from '../metrics/index.ts';
import { loadTemplates, NoticeMailer, NoticeTokens, type NoticeRequest } from '../abuse/index.ts';
import { CaptureSink } from '../../test/lib/sink.ts';
import { pyReadMessages } from '../../test/lib/pyemail.ts';
import { needTools, tempDir } from '../../test/lib/tools.ts';
import { parseConfigWithSource } from '../config/index.ts';
import { FakeCases, fakeHolders } from '../../test/lib/abuse-fakes.ts';
import { configProblems } from './check.ts';
import { noticeSpoolPort, startNoticePage } from './notice-wiring.ts';

const PY_BODY = String.raw`
import sys, json, base64
from email import policy
from email.parser import BytesParser
out = []
for b in json.load(sys.stdin):
    m = BytesParser(policy=policy.default).parsebytes(base64.b64decode(b))
    p = m.get_body(('plain',))
    out.append({'type': p.get_content_type(), 'charset': p.get_content_charset(), 'cte': p['content-transfer-encoding'], 'text': p.get_content()})
json.dump(out, sys.stdout)
`;
function pyBodies(raws: Buffer[]): Array<{ type: string; charset: string; cte: string; text: string }> {
  const r = spawnSync('python3', ['-c', PY_BODY], { input: JSON.stringify(raws.map((b) => b.toString('base64'))), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const request = (over: Partial<NoticeRequest> = {}): NoticeRequest => ({
  kind: 'quarantine', caseId: 'c7', subscriber: 'cust-1', contacts: ['alice@home.example', ' bob@home.example ', 'not a mailbox'],
  evidence: ['Your connection tried to send mail directly to 412 outside mail servers on port 25.'],
  until: Date.UTC(2026, 11, 3, 12, 0), selfRelease: { allowed: true, why: 'quiet', quietSince: 0, left: 2 }, ...over,
});

test('end to end: a notice goes through portwarden\'s spool and relay to the sink; headers parse; the link\'s token verifies', { skip: needTools('python3') }, async (t) => {
  const dir = tempDir();
  const log = new MemoryLogger();
  const spool = await Spool.open(join(dir.path, 'spool'), { logger: log });
  const sink = await CaptureSink.start({ extensions: ['8BITMIME', 'SMTPUTF8'] });
  const bus = new InProcessBus();
  const metrics = createMetrics({ processMetrics: false });
  subscribeMetrics(bus, metrics);
  const relay = new Relay({
    spool, logger: log, bus, ehloName: 'mx.isp.example', concurrency: 1, pollMs: 20,
    smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' }, retry: { schedule: [60], jitter: 0 },
    timeouts: { connect: 2000, greeting: 2000, socket: 5000 },
  });
  t.after(async () => { await relay.stop(); await sink.close(); await spool.close(); dir.remove(); });
  relay.start();
  const tplDir = join(dir.path, 'tpl');
  spawnSync('mkdir', [tplDir]);
  writeFileSync(join(tplDir, 'suspend.txt'), 'Subject: Konto pausiert – Fall {{case}} ({{subscriber}})\n\nGrüße {{subscriber}},\n{{evidence}}\nSeite: {{link}}\n');
  const tokens = new NoticeTokens({ secret: Buffer.alloc(32, 5), ttlHours: 24 });
  const mailer = new NoticeMailer({
    from: 'ISP Abuse Desk <abuse@isp.example>', pageUrl: 'https://portal.isp.example/notice?lang=en', hostname: 'mx.isp.example',
    templates: loadTemplates(tplDir), tokens, spool: noticeSpoolPort(spool), bus, logger: log,
  });
  const a = await mailer.send(request());
  assert.equal(a.queueIds.length, 2, 'one message per mailbox contact; the bad one skipped');
  assert.ok(log.records.some((l) => /not a mailbox; skipped/.test(String(l.msg))));
  const b = await mailer.send(request({ kind: 'suspend', subscriber: 'cust-1\r\nBcc: evil@x.example', contacts: ['carol@home.example'] }));
  const msgs = await sink.waitFor(3);
  assert.deepEqual(msgs.map((m) => m.mailFrom.split(' ')[0]), ['<abuse@isp.example>', '<abuse@isp.example>', '<abuse@isp.example>']);
  assert.deepEqual(msgs.map((m) => m.rcptTo).flat().sort(), ['alice@home.example', 'bob@home.example', 'carol@home.example']);
  const parsed = pyReadMessages(msgs.map((m) => m.data));
  for (const p of parsed) {
    const f = Object.fromEntries(p.fields.map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(p.defects, []);
    assert.equal(f['from'], 'ISP Abuse Desk <abuse@isp.example>');
    assert.equal(f['auto-submitted'], 'auto-generated');
    assert.match(f['message-id'], /^<[^<>@\s]+@mx\.isp\.example>$/);
    assert.ok(!Number.isNaN(Date.parse(f['date'])));
    assert.equal(f['mime-version'], '1.0');
    assert.equal(f['x-portwarden-case'], 'c7');
    assert.equal(p.fields.filter(([k]) => k.toLowerCase() === 'bcc').length, 0, 'no field injected');
  }
  const subjects = parsed.map((p) => p.fields.find(([k]) => k === 'Subject')![1]);
  assert.equal(subjects[0], 'Your internet connection is restricted (case c7)');
  assert.equal(subjects[2], 'Konto pausiert – Fall c7 (cust-1 Bcc: evil@x.example)');
  const bodies = pyBodies(msgs.map((m) => m.data));
  assert.equal(bodies[0].cte, '7bit');
  assert.equal(bodies[2].cte, 'quoted-printable');
  assert.equal(bodies[2].charset, 'utf-8');
  assert.match(bodies[2].text, /^Grüße cust-1 Bcc: evil@x\.example,\r?\n/);
  assert.match(bodies[0].text, /412 outside mail servers on port 25/);
  assert.match(bodies[0].text, /until 3 December 2026, 12:00 UTC/);
  for (const [i, body] of bodies.entries()) {
    const link = /https:\/\/portal\.isp\.example\/notice\?\S+/.exec(body.text)![0];
    const u = new URL(link);
    assert.equal(u.searchParams.get('lang'), 'en');
    const g = tokens.verifyLink(u.searchParams.get('t'));
    assert.ok(g.ok, `message ${i}: ${JSON.stringify(g)}`);
    assert.equal(g.value.case, 'c7');
    assert.equal(g.value.subscriber, i < 2 ? 'cust-1' : 'cust-1\r\nBcc: evil@x.example');
  }
  assert.equal(b.queueIds.length, 1);
  const m = await metrics.registry.metrics();
  assert.match(m, /portwarden_notices_sent_total\{kind="quarantine"\} 2/);
  assert.match(m, /portwarden_notices_sent_total\{kind="suspend"\} 1/);
});

test('a notice with no usable contact is an error, and nothing is queued', async (t) => {
  const dir = tempDir();
  const spool = await Spool.open(join(dir.path, 'spool'), { logger: new MemoryLogger() });
  t.after(async () => { await spool.close(); dir.remove(); });
  const mailer = new NoticeMailer({
    from: 'abuse@isp.example', pageUrl: 'https://portal.isp.example/notice', hostname: 'mx.isp.example',
    templates: loadTemplates(), tokens: new NoticeTokens({ secret: Buffer.alloc(32, 5), ttlHours: 24 }), spool: noticeSpoolPort(spool),
  });
  await assert.rejects(mailer.send(request({ contacts: ['<x>', ''] })), /case c7: subscriber cust-1 has no contact a notice can go to/);
  assert.equal(spool.stats().active, 0);
  assert.throws(() => new NoticeMailer({ from: 'nobody', pageUrl: 'https://x/', hostname: 'h', templates: loadTemplates(), tokens: new NoticeTokens({ secret: Buffer.alloc(32), ttlHours: 1 }), spool: noticeSpoolPort(spool) }), /abuse\.notices\.from: "nobody" is not a mailbox/);
});

test('config check (and so start) refuses a bad notice template, naming the file and line, and a From that is no mailbox', async (t) => {
  const dir = tempDir();
  t.after(() => dir.remove());
  writeFileSync(join(dir.path, 'notify.txt'), 'Subject: {{case}}\n\n{{link}}\nHello {{name}}\n');
  const text = `relay:\n  smarthost: 127.0.0.1:2525\nhostname: msa.isp.example\nabuse:\n  notices:\n    templateDir: ${dir.path}\n    from: nobody\n`;
  const { config, where } = parseConfigWithSource(text, 'pw.yaml');
  const p = await configProblems(config, where);
  assert.ok(p.errors.some((e) => e.includes(`abuse.notices.templateDir: ${dir.path}/notify.txt:4: unknown placeholder {{name}}`)), p.errors.join('\n'));
  assert.ok(p.errors.some((e) => /^pw\.yaml:7:\d+: abuse\.notices\.from: "nobody" is not a mailbox/.test(e)), p.errors.join('\n'));
});

test('startNoticePage binds abuse.noticeListen and answers with the case of the garden client', { skip: needTools('curl') }, async (t) => {
  const dir = tempDir();
  t.after(() => dir.remove());
  const { config } = parseConfigWithSource(`dataDir: ${dir.path}\nhostname: msa.isp.example\nrelay:\n  smarthost: 127.0.0.1:2525\nabuse:\n  noticeListen: 127.0.0.1:0\n`, 'pw.yaml');
  const cases = new FakeCases();
  cases.add({ id: 'c9', subscriber: 'cust-9', active: [{ decision: 'd', action: 'quarantine', rule: 'bot', at: 0, until: null }] });
  const directory = fakeHolders({ '127.0.0.1': 'cust-9' });
  const close = await startNoticePage({ cfg: config, logger: new MemoryLogger(), bus: new InProcessBus(), cases, directory, listen: config.abuse.noticeListen! });
  t.after(() => close());
  const r = await promisify(execFile)('curl', ['-s', '-H', 'Host: anything.example', `http://127.0.0.1:${close.port}/generate_204`], { encoding: 'utf8' });
  assert.match(r.stdout, /<strong>c9<\/strong>/);
  assert.match(r.stdout, /Until the problem is fixed and the restriction is lifted\./);
  assert.equal(statSync(join(dir.path, 'notice-secret')).mode & 0o777, 0o600);
});
