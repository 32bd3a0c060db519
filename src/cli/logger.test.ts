// The log sinks: a file that logrotate moves and SIGHUP reopens, and RFC 5424 over UDP,
// framed the way util-linux logger(1) frames it (that real client is the reference).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync, renameSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../test/lib/portwarden.ts';
import { needTools, tempDir, until } from '../../test/lib/tools.ts';
import { createLogSink, parseSyslogUrl, syslogFrame } from './logger.ts';

const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test('log.file: lines go to the file; after a rename (logrotate) reopen() starts a new file, nothing lost', async (t) => {
  const dir = tempDir('pw-logfile-');
  t.after(() => dir.remove());
  const file = join(dir.path, 'portwarden.log');
  const sink = createLogSink({ level: 'info', file });
  sink.logger.info({ event: 'one' });
  sink.logger.debug({ event: 'below the level' });
  await new Promise((r) => setTimeout(r, 50));
  renameSync(file, `${file}.1`);
  sink.logger.info({ event: 'two' }); // still written to the moved file: the descriptor is the old one
  sink.reopen();
  sink.logger.warn({ event: 'three' });
  await sink.close();
  assert.deepEqual(lines(`${file}.1`).map((l) => l.event), ['one', 'two']);
  assert.deepEqual(lines(file).map((l) => [l.event, l.level]), [['three', 40]]);
});

test('log.file: a path that cannot be opened stops the start with one clear line', () => {
  assert.throws(() => createLogSink({ level: 'info', file: '/nonexistent-dir/x.log' }), /^Error: cannot open log\.file \/nonexistent-dir\/x\.log: ENOENT/);
});

test('syslog URLs: udp://host:port only', () => {
  assert.deepEqual(parseSyslogUrl('udp://127.0.0.1:514'), { host: '127.0.0.1', port: 514 });
  assert.deepEqual(parseSyslogUrl('udp://[::1]:5514'), { host: '::1', port: 5514 });
  for (const bad of ['unix:/dev/log', 'tcp://h:514', 'udp://h', 'udp://h:0', 'udp://h:70000']) assert.equal(parseSyslogUrl(bad), null, bad);
});

test('syslog frame: PRI from facility mail and the level, MSGID from the event, the JSON line as MSG', () => {
  const f = syslogFrame('{"level":40,"event":"lockout","ip":"192.0.2.7"}\n', 'mx1', 4242, new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toString();
  assert.equal(f, '<20>1 2026-01-02T03:04:05.006Z mx1 portwarden 4242 lockout - {"level":40,"event":"lockout","ip":"192.0.2.7"}');
  assert.match(syslogFrame('{"event":"a b"}', 'h', 1).toString(), /^<22>1 \S+ h portwarden 1 - - /, 'an event that is no MSGID is "-"');
  assert.ok(syslogFrame(`{"event":"x","big":"${'y'.repeat(20_000)}"}`, 'h', 1).length <= 8192, 'a datagram stays within 8 KiB');
});

test('log.syslog: each line is one datagram, framed as logger(1) --rfc5424 frames it', { skip: needTools('logger') }, async (t) => {
  const rx = createSocket('udp4');
  const got: string[] = [];
  rx.on('message', (m) => got.push(m.toString('utf8')));
  rx.bind(0, '127.0.0.1');
  await once(rx, 'listening');
  t.after(() => rx.close());
  const port = (rx.address() as AddressInfo).port;
  const sink = createLogSink({ level: 'info', syslog: `udp://127.0.0.1:${port}`, file: join(tempDir('pw-logsys-').path, 'l.log') });
  sink.logger.info({ event: 'transaction', queueId: 'Q1' });
  await until(() => got.length === 1, 'our datagram');
  await run('logger', ['--rfc5424=notq', '-d', '-n', '127.0.0.1', '-P', String(port), '-p', 'mail.info', '-t', 'portwarden', '--msgid', 'transaction', 'hello']);
  await until(() => got.length === 2, 'logger\'s datagram');
  await sink.close();
  const [ours, ref] = got.map((d) => d.split(' '));
  // PRI/VERSION, APP-NAME, MSGID and STRUCTURED-DATA agree; TIMESTAMP, HOSTNAME and PROCID are ours to fill.
  assert.deepEqual([ours[0], ours[3], ours[5], ours[6]], [ref[0], ref[3], ref[5], ref[6]], `${got[0]}\n${got[1]}`);
  assert.match(ours[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(ours[4], String(process.pid));
  assert.deepEqual(JSON.parse(ours.slice(7).join(' ')).queueId, 'Q1');
});
