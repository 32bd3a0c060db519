// The abuse mailbox in the real `portwarden start`: swaks delivers a report to
// abuse.mailbox.listen, the process is killed with SIGKILL right after the
// 250, and after the restart `portwarden report list|show` has the report.
// With the engine and the directory of the server, a report about an address
// at a past time opens a case for whoever held it then. A complaint whose
// Subject decodes to CR/LF and escape sequences reaches the log line and the
// terminal encoded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Portwarden, run } from '../lib/portwarden.ts';
import { needTools, until } from '../lib/tools.ts';
import { ARF } from '../lib/abuse-reports.ts';

const skip = needTools('swaks');

describe('abuse mailbox in the server', { skip }, () => {
  let pw: Portwarden;
  before(async () => {
    pw = await Portwarden.start({
      smarthost: '127.0.0.1:9', // nothing is relayed here
      extraYaml: 'abuse:\n  mailbox:\n    listen: 127.0.0.1:0\n    domains: [provider.example]\n    maxReportBytes: 65536',
    });
  });
  after(async () => { await pw?.destroy(); });

  const swaks = (args: string[]) => run('swaks', ['--server', '127.0.0.1', '--port', String(pw.port('abuse-mailbox')), '--timeout', '15', '--helo', 'fbl.isp.example', ...args]);

  test('a report answered 250 survives kill -9: listed and shown after the restart', async () => {
    const file = join(pw.dir, 'arf.eml');
    writeFileSync(file, ARF);
    const r = await swaks(['--from', 'fbl@isp.example', '--to', 'abuse@provider.example', '--data', file]);
    const id = /<- +250 2\.0\.0 Ok: report (r[0-9a-z]{17}) stored/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout + r.stderr);
    await pw.kill();
    await pw.restart();
    const list = await pw.cli(['report', 'list', '--json']);
    const rows = (JSON.parse(list.stdout) as { reports: Array<{ id: string; source: string; sourceFrom: string; kind: string }> }).reports;
    const row = rows.find((x) => x.id === id);
    assert.deepEqual(row && { source: row.source, sourceFrom: row.sourceFrom, kind: row.kind }, { source: '198.51.100.7', sourceFrom: 'Source-IP', kind: 'arf' });
    const show = await pw.cli(['report', 'show', id]);
    assert.match(show.stdout, /^source: 198\.51\.100\.7 port 40123 \(from Source-IP\)$/m);
    assert.match(show.stdout, /^Feedback-Type: abuse$/m, 'the stored report follows the fields');
    assert.match(show.stdout, /^Return-Path: <fbl@isp\.example>$/m);
  });

  test('the engine in the server: a report about an address at a past time opens a case for who held it then, not its holder now', async () => {
    const cli = (args: string[]) => pw.cli(args);
    await cli(['subscriber', 'put', 'sub-then', '--reason', 'test']);
    await cli(['subscriber', 'put', 'sub-now', '--reason', 'test']);
    // The ARF fixture: Source-IP 198.51.100.7, Arrival-Date 2026-12-02 08:30 UTC.
    await cli(['address', 'assign', 'sub-then', '198.51.100.7', '--start', '2026-12-02T06:00:00Z', '--end', '2026-12-02T09:00:00Z', '--session', 'a', '--reason', 'test']);
    await cli(['address', 'assign', 'sub-now', '198.51.100.7', '--start', '2026-12-02T09:00:00Z', '--session', 'b', '--reason', 'test']);
    const file = join(pw.dir, 'arf2.eml');
    writeFileSync(file, ARF);
    const r = await swaks(['--from', '', '--to', 'abuse@provider.example', '--data', file]);
    const id = /<- +250 2\.0\.0 Ok: report (r[0-9a-z]{17}) stored/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout + r.stderr);
    type Summary = { id: string; subscriber: string };
    const cases = async (sub: string): Promise<Summary[]> => JSON.parse((await cli(['case', 'list', '--subscriber', sub, '--json'])).stdout) as Summary[];
    await until(async () => (await cases('sub-then')).length === 1, 'a case for sub-then', 15_000, 100);
    assert.deepEqual(await cases('sub-now'), []);
    const shown = JSON.parse((await cli(['case', 'show', (await cases('sub-then'))[0].id, '--json'])).stdout) as { evidence: Array<{ class: string; origin: string; address: string }> };
    assert.ok(shown.evidence.some((e) => e.class === 'report' && e.origin === `mailbox:${id}` && e.address === '198.51.100.7'), JSON.stringify(shown.evidence));
    const report = JSON.parse((await cli(['report', 'show', id, '--json'])).stdout) as { report: { subscriber: string | null } };
    assert.equal(report.report.subscriber, 'sub-then');
  });

  test('a wrong recipient is refused in the session (550 5.1.1), nothing stored', async () => {
    const r = await swaks(['--from', 'fbl@isp.example', '--to', 'sales@provider.example', '--data', 'Subject: x\r\n\r\nx\r\n']);
    assert.match(r.stdout, /<\*\* +550 5\.1\.1 Recipient address rejected: User unknown/, r.stdout);
  });

  test('a Subject that decodes to CR/LF and escapes reaches the log line and the terminal encoded', async () => {
    const data = 'From: a@else.example\r\nSubject: =?utf-8?q?evil=0D=0A{"event":"forged"}=1B[2J?=\r\n\r\nspam from 198.51.100.9\r\n';
    const r = await swaks(['--from', 'a@else.example', '--to', 'postmaster@provider.example', '--data', data]);
    const id = /<- +250 2\.0\.0 Ok: report (r[0-9a-z]{17}) stored/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    await until(() => pw.logsOf('abuse-report').some((l) => l.report === id), 'the abuse-report log line');
    const line = pw.logsOf('abuse-report').find((l) => l.report === id)!;
    assert.equal(line.subject, 'evil\\r\\n{"event":"forged"}\\x1b[2J');
    assert.equal(line.kind, 'plain');
    assert.equal(pw.logsOf('forged').length, 0);
    const list = await pw.cli(['report', 'list']);
    const shown = list.stdout.split('\n').find((l) => l.startsWith(id))!;
    assert.ok(shown.endsWith('\tevil\\r\\n{"event":"forged"}\\x1b[2J'), shown);
    assert.ok(!/[\r\x1b]/.test(list.stdout));
  });
});
