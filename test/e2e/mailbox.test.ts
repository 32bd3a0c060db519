// The abuse mailbox in the real `portwarden start`: swaks delivers a report to
// abuse.mailbox.listen, the process is killed with SIGKILL right after the
// 250, and after the restart `portwarden report list|show` has the report.
// A complaint whose Subject decodes to CR/LF and escape sequences reaches the
// log line and the terminal encoded.
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
