// Server memory against message size: does acceptance (STARTTLS + AUTH, durable spool) and
// relay keep the server's memory flat whatever the size? Starts portwarden through
// bin/portwarden (its production flags) on loopback with a throwaway data directory, relays
// to Postfix's smtp-sink, and submits each size in turn over a few concurrent sessions with
// our own SMTP client (src/relay/client.ts), bodies generated as they are sent. Per size it
// prints msg/s, MB/s and the server's peak RSS (VmHWM, reset through /proc/PID/clear_refs
// before each size) and its RSS once the queue has drained.
//
// Run: node bench/portwarden/memory.ts [sizes-in-KiB…]   (default 64 1024 10240 40960)
// Needs smtp-sink (Debian package postfix) and openssl; bounded: about 750 MB submitted in all.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { connectClient } from '../../src/relay/client.ts';
import type { Envelope } from '../../src/spool/index.ts';
import { freePort, tempDir, until } from '../../test/lib/tools.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const SESSIONS = 4;
/** Bytes submitted per size, so every row moves about the same volume (at least one message per session). */
const VOLUME = 192 * 1024 * 1024;
const sizes = (process.argv.length > 2 ? process.argv.slice(2).map(Number) : [64, 1024, 10240, 40960]).map((k) => k * 1024);

/** Resolves once something accepts connections on the port. */
function waitPort(port: number, what: string): Promise<void> {
  const accepts = (): Promise<boolean> => new Promise((res) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
  return until(accepts, `${what} listening on ${port}`, 20_000, 50);
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A message of exactly `size` octets: a short header, then 76-character lines. */
function message(size: number, n: number): Readable {
  const head = Buffer.from(`From: bench@example.com\r\nTo: sink@example.net\r\nSubject: memory bench ${n}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <mem${n}.${Date.now()}@example.com>\r\n\r\n`);
  const line = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmn\r\n';
  const block = Buffer.from(line.repeat(Math.ceil(65536 / line.length)));
  return Readable.from((function* () {
    yield head;
    let left = size - head.length;
    while (left > 0) {
      const n = Math.min(left, block.length);
      // Keep the last line whole: end on CRLF.
      const piece = n === left ? Buffer.concat([block.subarray(0, Math.max(0, n - 2)), Buffer.from('\r\n')]) : block.subarray(0, n);
      yield piece;
      left -= n;
    }
  })(), { objectMode: false });
}

function envelope(n: number): Envelope {
  return {
    id: `bench${n}`, mailFrom: { address: 'bench@example.com' }, receivedAt: Date.now(), attributes: {}, attempts: 0,
    recipients: [{ address: 'sink@example.net', state: 'pending' }],
  };
}

async function session(port: number, count: number, size: number, base: number): Promise<void> {
  const c = await connectClient({ host: '127.0.0.1', port, tls: 'required', rejectUnauthorized: false, auth: { user: 'bench@example.com', pass: 'benchpass' } },
    'bench.client', { connect: 10_000, greeting: 10_000, socket: 120_000 });
  try {
    for (let i = 0; i < count; i++) {
      const r = await c.deliver(envelope(base + i), [0], size, message(size, base + i));
      const reply = r.replies.get(0) ?? '';
      if (!reply.startsWith('250')) throw new Error(`message ${base + i} of ${size} octets: ${reply}`);
    }
  } finally {
    c.quit();
  }
}

const tmp = tempDir('pw-membench-');
const dir = tmp.path;
const children: ChildProcess[] = [];
const stopAll = (): void => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM'); };
process.on('exit', () => { stopAll(); tmp.remove(); });
process.on('SIGINT', () => process.exit(130));

try {
  const sinkPort = await freePort();
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const sink = spawn('smtp-sink', [...(asRoot ? ['-u', 'nobody'] : []), `127.0.0.1:${sinkPort}`, '256'], { stdio: 'ignore' });
  children.push(sink);
  sink.once('error', (e) => { console.error(`smtp-sink: ${e.message} (Debian package postfix)`); process.exit(2); });
  await waitPort(sinkPort, 'smtp-sink');
  const config = join(dir, 'portwarden.yaml');
  writeFileSync(config, [
    'hostname: membench.portwarden.test',
    `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
    'listeners:',
    `  - {name: submission, host: 127.0.0.1, port: ${port}, tls: starttls, maxConnectionsPerIp: 100, maxConnectionsPerNetwork: 100}`,
    `smtp: {maxMessageSize: ${Math.max(...sizes) + 1024 * 1024}}`,
    `relay: {smarthost: "127.0.0.1:${sinkPort}", tls: none, concurrency: 20}`,
    'log: {level: warn}',
    'accounts: {minPasswordLength: 8}   # the shared bench logs in with bench@example.com / benchpass',
    '',
  ].join('\n'));
  execFileSync(NODE, ['--disable-warning=ExperimentalWarning', MAIN, 'account', 'add', 'bench@example.com', '--password-stdin', '--tier', 'premium', '--config', config],
    { input: 'benchpass\n', stdio: ['pipe', 'ignore', 'inherit'] });
  const server = spawn(join(ROOT, 'bin', 'portwarden'), ['start', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(server);
  await waitPort(port, 'portwarden');
  // bin/portwarden execs node: the pid is the server's.
  const pid = server.pid!;
  const drain = (): void => { execFileSync(NODE, ['--disable-warning=ExperimentalWarning', MAIN, 'queue', 'wait-empty', '--config', config], { stdio: 'inherit', timeout: 300_000 }); };
  console.log(`portwarden pid ${pid}, ${SESSIONS} sessions, STARTTLS + AUTH, durable spool, relay to smtp-sink`);
  console.log(`idle RSS ${status(pid, 'VmRSS').toFixed(0)} MiB\n`);
  console.log('| size | messages | msg/s | MB/s | peak RSS MiB | RSS after drain MiB |');
  console.log('|---|---|---|---|---|---|');
  let n = 0;
  for (const size of sizes) {
    const count = Math.max(SESSIONS, Math.round(VOLUME / size / SESSIONS) * SESSIONS);
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // reset VmHWM to the current RSS
    const t0 = performance.now();
    await Promise.all(Array.from({ length: SESSIONS }, (_, s) => session(port, count / SESSIONS, size, n + s * (count / SESSIONS))));
    const secs = (performance.now() - t0) / 1000;
    drain();
    const peak = status(pid, 'VmHWM');
    n += count;
    const label = size >= 1048576 ? `${size / 1048576} MiB` : `${size / 1024} KiB`;
    console.log(`| ${label} | ${count} | ${(count / secs).toFixed(1)} | ${(count * size / secs / 1e6).toFixed(0)} | ${peak.toFixed(0)} | ${status(pid, 'VmRSS').toFixed(0)} |`);
  }
} finally {
  stopAll();
}
