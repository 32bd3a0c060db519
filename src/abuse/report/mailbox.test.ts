// The abuse mailbox with real SMTP clients (swaks, Python smtplib) on loopback:
// the four report fixtures stored and answered 250 after the fsync, the row,
// the abuse.report event and the report signal; SIZE and the 552, a wrong
// recipient's 550 5.1.1; a report about a CGNAT address at a past time joined
// to whoever held it then; a store that fails answers 451 4.3.0 and keeps
// nothing; a file whose row was lost is indexed again at the next start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureContext } from 'node:tls';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger, systemClock } from '../../core/index.ts';
import { InProcessBus, type EventMap } from '../../events/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import type { Holder } from '../../directory/index.ts';
import type { Signal } from '../types.ts';
import { startMailbox } from './mailbox.ts';
import { ReportStore } from './store.ts';
import { ARF, GARBAGE, PLAIN, SPARSE, own } from '../../../test/lib/abuse-reports.ts';
import { needTools, smallTmpfs, tempDir } from '../../../test/lib/tools.ts';
import { run } from '../../../test/lib/portwarden.ts';
import { loopbackCert } from '../../../test/lib/cert.ts';

const skip = needTools('swaks', 'python3', 'openssl');
const MAX = 64 * 1024;
const T = (iso: string): number => Date.parse(iso);

/** 100.64.1.2 (CGNAT) was cust-then's until 08:00 on the day of the reports, cust-now's after. */
const holders = {
  asked: [] as Array<{ address: string; at: number; port: number | null }>,
  async holdersAt(address: string, at: number, port?: number | null): Promise<Holder[]> {
    this.asked.push({ address, at, port: port ?? null });
    const h = (subscriber: string, start: number, end: number | null): Holder =>
      ({ subscriber, assignment: { id: 1, subscriber, prefix: address, portLo: null, portHi: null, start, end, source: 'radius', session: null } });
    if (address === '100.64.1.2') return at < T('2026-12-02T08:00:00Z') ? [h('cust-then', T('2026-12-02T06:00:00Z'), T('2026-12-02T08:00:00Z'))] : [h('cust-now', T('2026-12-02T08:00:00Z'), null)];
    if (address === '198.51.100.7') return [h('cust-7', 0, null)];
    return [];
  },
};

describe('abuse mailbox over SMTP', { skip }, () => {
  const dir = tempDir('pw-mailbox-');
  const cert = skip ? null : loopbackCert();
  const logger = new MemoryLogger();
  const bus = new InProcessBus({ logger });
  const events: Array<EventMap['abuse.report']> = [];
  const signals: Signal[] = [];
  let store: Store;
  let reports: ReportStore;
  let mb: Awaited<ReturnType<typeof startMailbox>>;
  const start = async (): Promise<void> => {
    reports = await ReportStore.open(store, join(dir.path, 'reports'));
    const ctx = createSecureContext({ key: cert!.key, cert: cert!.cert });
    mb = await startMailbox({ hostname: 'mx.provider.example', domains: ['provider.example'], maxReportBytes: MAX, host: '127.0.0.1', port: 0, secureContext: () => ctx },
      { store: reports, isOwn: own, holders, sink: { ingest: (s) => { signals.push(s); return true; } }, bus, logger, clock: systemClock });
  };
  before(async () => {
    bus.subscribe('abuse.report', (e) => events.push(e));
    store = await openStore(join(dir.path, 'state.db'));
    await start();
  });
  after(async () => {
    await mb?.close();
    await store?.close();
    cert?.remove();
    dir.remove();
  });

  const swaks = (args: string[]) => run('swaks', ['--server', '127.0.0.1', '--port', String(mb.port), '--timeout', '15', '--helo', 'fbl.isp.example', ...args]);
  const file = (name: string, b: Buffer): string => { const p = join(dir.path, name); writeFileSync(p, b); return p; };

  test('swaks delivers the four fixtures: 250 with the report id, a row, the event and (with a source) a signal', async () => {
    const expected = [
      { name: 'arf', data: ARF, kind: 'arf', source: '198.51.100.7', sourceFrom: 'Source-IP', subscriber: 'cust-7' },
      { name: 'sparse', data: SPARSE, kind: 'arf', source: '198.51.100.20', sourceFrom: 'Received', subscriber: null },
      { name: 'plain', data: PLAIN, kind: 'plain', source: '100.64.1.2', sourceFrom: 'Received', subscriber: 'cust-then' },
      { name: 'garbage', data: GARBAGE, kind: 'plain', source: null, sourceFrom: 'none', subscriber: null },
    ];
    for (const x of expected) {
      const ev = events.length, sig = signals.length;
      const r = await swaks(['--from', 'fbl@isp.example', '--to', 'abuse@provider.example', '--data', file(x.name, x.data)]);
      const m = /<[-~*]+ +250 2\.0\.0 Ok: report (r[0-9a-z]{17}) stored/.exec(r.stdout);
      assert.ok(m, `${x.name}: ${r.stdout}${r.stderr}`);
      const id = m[1];
      const row = await reports.get(id);
      assert.ok(row, x.name);
      assert.equal(row.kind, x.kind, x.name);
      assert.equal(row.source, x.source, x.name);
      assert.equal(row.sourceFrom, x.sourceFrom, x.name);
      assert.equal(row.subscriber, x.subscriber, x.name);
      assert.equal(row.reporter, 'fbl@isp.example');
      assert.equal(row.recipient, 'abuse@provider.example');
      assert.equal(row.clientIp, '127.0.0.1');
      assert.equal(events.length, ev + 1, x.name);
      assert.deepEqual({ report: events[ev].report, source: events[ev].source, subscriber: events[ev].subscriber }, { report: id, source: x.source, subscriber: x.subscriber });
      // The file holds the report byte for byte after our two trace fields.
      const stored = await reports.readFile(id);
      assert.match(stored.toString('latin1'), /^Return-Path: <fbl@isp\.example>\r\nReceived: from fbl\.isp\.example \(unknown \[127\.0\.0\.1\]\) by mx\.provider\.example \(portwarden\) with ESMTP id r/);
      // swaks ends DATA with one more CRLF than the file has.
      const body = stored.subarray(stored.indexOf('\n', stored.indexOf('\nReceived: ') + 1) + 1);
      assert.ok(body.subarray(0, x.data.length).equals(x.data), `${x.name}: bytes kept`);
      assert.equal(row.size, body.length, `${x.name}: size`);
      if (x.source === null) { assert.equal(signals.length, sig, 'no source, no signal'); continue; }
      assert.equal(signals.length, sig + 1, x.name);
      assert.deepEqual({ ...signals[sig], detail: undefined }, {
        class: 'report', at: row.at, address: x.source, port: x.name === 'arf' ? 40123 : null, subscriber: x.subscriber, account: null, amount: 1,
        origin: `mailbox:${id}`, detail: undefined,
      });
    }
  });

  test('a report about a CGNAT address at a past time goes to who held it then, not to its holder now', async () => {
    const now = (await holders.holdersAt('100.64.1.2', Date.now()))[0].subscriber;
    assert.equal(now, 'cust-now');
    const ev = events.length;
    const r = await swaks(['--from', 'complaints@else.example', '--to', 'abuse@provider.example', '--data', file('plain2', PLAIN)]);
    assert.match(r.stdout, /<- +250 2\.0\.0 Ok: report /, r.stdout);
    const e = events[ev];
    assert.equal(e.at, T('2026-12-02T07:00:00Z'), 'the CGNAT hop\'s time');
    assert.equal(e.subscriber, 'cust-then');
    assert.equal((await reports.get(e.report))?.subscriber, 'cust-then');
    assert.equal(signals[signals.length - 1].subscriber, 'cust-then');
  });

  test('Python smtplib over STARTTLS: the four fixtures; SIZE advertised, 552 5.3.4 for an oversize report (MAIL SIZE= and at the end of DATA), 550 5.1.1 for a wrong recipient', async () => {
    const big = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(MAX + 100, 'x\r\n')]);
    const script = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
big = open(sys.argv[2], 'rb').read()
fixtures = [open(f, 'rb').read() for f in sys.argv[4:]]
arf = fixtures[0]
with smtplib.SMTP('127.0.0.1', int(sys.argv[3]), timeout=15) as s:
    s.ehlo('fbl.isp.example'); print('starttls' in s.esmtp_features, 'auth' in s.esmtp_features)
    s.starttls(context=ctx); s.ehlo('fbl.isp.example')
    print('size', s.esmtp_features.get('size'))
    for f in fixtures[1:]:
        print('fixture', s.sendmail('fbl@isp.example', ['abuse@provider.example'], f))
    print('sent', s.sendmail('<>', ['abuse@PROVIDER.example'], arf))
    try:
        s.sendmail('fbl@isp.example', ['someone@provider.example'], arf); print('UNEXPECTED')
    except smtplib.SMTPRecipientsRefused as e:
        c, t = e.recipients['someone@provider.example']; print('refused', c, t.decode())
    try:
        s.sendmail('fbl@isp.example', ['postmaster@provider.example'], big); print('UNEXPECTED')
    except smtplib.SMTPSenderRefused as e:
        print('size refused', e.smtp_code, e.smtp_error.decode())
    s.rset()
    s.mail('fbl@isp.example'); s.rcpt('abuse@provider.example')
    print('data', *s.data(big))
`;
    const before = events.length;
    const r = await run('python3', ['-c', script, '', file('big', big), String(mb.port), file('arf2', ARF), file('sparse2', SPARSE), file('plain3', PLAIN), file('garbage2', GARBAGE)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^True False$/m, 'STARTTLS offered, AUTH not');
    assert.match(r.stdout, new RegExp(`^size ${MAX}$`, 'm'));
    assert.match(r.stdout, /^sent \{\}$/m);
    assert.match(r.stdout, /^refused 550 5\.1\.1 Recipient address rejected: User unknown$/m);
    assert.match(r.stdout, /^size refused 552 5\.3\.4 /m);
    assert.match(r.stdout, /^data 552 b'5\.3\.4 /m);
    assert.deepEqual(readdirSync(join(reports.dir, 'tmp')), [], 'the refused reports left no temp file');
    assert.equal(r.stdout.match(/^fixture \{\}$/gm)?.length, 3);
    assert.equal(events.length, before + 4, 'the four fixtures, and nothing refused');
    assert.deepEqual(events.slice(before).map((e) => [e.kind, e.source]), [['arf', '198.51.100.20'], ['plain', '100.64.1.2'], ['plain', null], ['arf', '198.51.100.7']]);
    const row = (await reports.list({ limit: 1 })).reports[0];
    assert.equal(row.reporter, '');
    assert.equal(row.recipient, 'abuse@PROVIDER.example');
    assert.match((await reports.readFile(row.id)).toString('latin1'), /with ESMTPS id /);
  });

  test('a store that fails answers 451 4.3.0 and leaves no file behind', async () => {
    const insert = reports.insert;
    reports.insert = async () => { throw new Error('database is locked'); };
    try {
      const filesBefore = readdirSync(reports.dir).length;
      const r = await swaks(['--from', 'fbl@isp.example', '--to', 'abuse@provider.example', '--data', file('arf3', ARF)]);
      assert.match(r.stdout, /<\*\* +451 4\.3\.0 /, r.stdout);
      assert.equal(readdirSync(reports.dir).length, filesBefore);
      assert.ok(logger.records.some((l) => l.msg === 'cannot store the report'));
    } finally {
      reports.insert = insert;
    }
  });

  test('a file whose row was lost (SQLite NORMAL after a power cut) is indexed again at the next start', async () => {
    const [was] = (await reports.list({ source: '198.51.100.7', limit: 1 })).reports;
    const id = was.id;
    await store.db.run('DELETE FROM abuse_reports WHERE id = ?', [id]);
    const ev = events.length;
    await mb.close();
    writeFileSync(join(reports.dir, 'tmp', reports.newId(Date.now())), 'half written, never answered');
    assert.equal(await reports.get(id), null);
    // A store that fails at the next start leaves the file alone (it was answered 250): the start after indexes it.
    const insert = ReportStore.prototype.insert;
    ReportStore.prototype.insert = async () => { throw new Error('database is locked'); };
    try {
      await start();
    } finally {
      ReportStore.prototype.insert = insert;
    }
    await mb.close();
    assert.ok(existsSync(reports.fileOf(id)), 'kept for the next start');
    assert.equal(await reports.get(id), null);
    await start();
    assert.deepEqual(await reports.get(id), was, 'the same row, envelope read back from the trace fields');
    assert.equal(events.length, ev + 1, 'published once, when indexed');
    assert.ok(existsSync(reports.fileOf(id)));
    assert.deepEqual(readdirSync(join(reports.dir, 'tmp')), [], 'temp files dropped at start');
  });
});

test('a disk that fills while a report arrives: 451 4.3.0, nothing left behind, the next report is taken', { skip: skip || undefined }, async (t) => {
  const fs = smallTmpfs('size=256k,mode=0700');
  if ('skip' in fs) { t.skip(fs.skip); return; }
  const dir = tempDir('pw-mailbox-full-');
  const store = await openStore(join(dir.path, 'state.db'));
  const logger = new MemoryLogger();
  try {
    const reports = await ReportStore.open(store, join(fs.path, 'reports'));
    const mb = await startMailbox({ hostname: 'mx.provider.example', domains: [], maxReportBytes: 4 << 20, minFreeBytes: 0, host: '127.0.0.1', port: 0 },
      { store: reports, isOwn: own, logger, clock: systemClock });
    try {
      const big = join(dir.path, 'big.eml');
      writeFileSync(big, Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(1 << 20, 'spam spam spam\r\n')]));
      const send = (data: string) => run('swaks', ['--server', '127.0.0.1', '--port', String(mb.port), '--timeout', '15', '--from', 'a@b.example', '--to', 'abuse@x.example', '--suppress-data', '--data', data]);
      const r = await send(big);
      assert.match(r.stdout, /<\*\* +451 4\.3\.0 /, r.stdout);
      assert.deepEqual(readdirSync(join(reports.dir, 'tmp')), []);
      assert.deepEqual(readdirSync(reports.dir).filter((f) => f !== 'tmp'), []);
      assert.ok(logger.records.some((l) => l.msg === 'cannot write the report file' && /ENOSPC/.test(String(l.err))));
      const small = join(dir.path, 'small.eml');
      writeFileSync(small, ARF);
      assert.match((await send(small)).stdout, /<- +250 2\.0\.0 Ok: report /);
    } finally {
      await mb.close();
    }
  } finally {
    await store.close();
    dir.remove();
    fs.remove();
  }
});

test('a nearly full disk defers reports at MAIL (452 4.3.1) before any data is sent', { skip: skip || undefined }, async (t) => {
  const fs = smallTmpfs('size=1m,mode=0700');
  if ('skip' in fs) { t.skip(fs.skip); return; }
  const dir = tempDir('pw-mailbox-low-');
  const store = await openStore(join(dir.path, 'state.db'));
  const logger = new MemoryLogger();
  try {
    const reports = await ReportStore.open(store, join(fs.path, 'reports'));
    const mb = await startMailbox({ hostname: 'mx.provider.example', domains: [], maxReportBytes: 1 << 20, minFreeBytes: 600 * 1024, host: '127.0.0.1', port: 0 },
      { store: reports, isOwn: own, logger, clock: systemClock });
    try {
      const report = join(dir.path, 'r.eml');
      writeFileSync(report, Buffer.concat([Buffer.from('Subject: 500k\r\n\r\n'), Buffer.alloc(500 * 1024, 'spam spam spam\r\n')]));
      const send = () => run('swaks', ['--server', '127.0.0.1', '--port', String(mb.port), '--timeout', '15', '--from', 'a@b.example', '--to', 'abuse@x.example', '--suppress-data', '--data', report]);
      assert.match((await send()).stdout, /<- +250 2\.0\.0 Ok: report /, 'room enough for the first');
      const r = await send();
      assert.match(r.stdout, /-> MAIL FROM:<a@b\.example>\n<\*\* +452 4\.3\.1 Insufficient system storage/, r.stdout);
      assert.doesNotMatch(r.stdout, /-> DATA/);
      assert.ok(logger.records.some((l) => l.msg === 'the reports\' filesystem is nearly full: reports deferred'));
    } finally {
      await mb.close();
    }
  } finally {
    await store.close();
    dir.remove();
    fs.remove();
  }
});
