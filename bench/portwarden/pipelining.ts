// Server memory against a client that pipelines and never reads its replies: starts
// portwarden through bin/portwarden (its production flags) on loopback with a throwaway data
// directory, connects to the STARTTLS listener, writes 4 MiB of "EHLO …" (~200 octets of
// reply each) without ever reading, and prints how much of it the server read, its RSS growth
// (VmHWM against the idle RSS) and whether and when it dropped the connection. What the server
// does not read waits in the kernel's socket buffers (up to net.ipv4.tcp_rmem's maximum, 32 MiB
// here), not in the server: the figure that matters is what the server read.
//
// Run: node bench/portwarden/pipelining.ts [MiB]   (default 4). Bounded: one connection, ≤ 75 s.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, tempDir, until } from '../../test/lib/tools.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TOTAL = Number(process.argv[2] ?? 4) * 1024 * 1024;

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tmp = tempDir('pw-pipebench-');
let server: ChildProcess | undefined;
process.on('exit', () => { if (server?.exitCode === null) server.kill('SIGTERM'); tmp.remove(); });
process.on('SIGINT', () => process.exit(130));

const port = await freePort();
const config = join(tmp.path, 'portwarden.yaml');
writeFileSync(config, [
  'hostname: pipebench.portwarden.test',
  `dataDir: ${JSON.stringify(join(tmp.path, 'data'))}`,
  'listeners:',
  `  - {name: submission, host: 127.0.0.1, port: ${port}, tls: starttls}`,
  'relay: {smarthost: "127.0.0.1:9", tls: none}',
  'log: {level: warn}',
  '',
].join('\n'));
server = spawn(join(ROOT, 'bin', 'portwarden'), ['start', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
// The server's warnings (JSON lines): "replies not read" says how much input it had read.
const warnings: Array<Record<string, unknown>> = [];
createInterface({ input: server.stdout! }).on('line', (l) => { try { warnings.push(JSON.parse(l) as Record<string, unknown>); } catch { /* not JSON */ } });
const up = (): Promise<boolean> => new Promise((res) => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
  s.once('error', () => res(false));
});
await until(up, `portwarden on ${port}`, 20_000, 50);
const pid = server.pid!;
await sleep(500);
const idle = status(pid, 'VmRSS');
writeFileSync(`/proc/${pid}/clear_refs`, '5'); // VmHWM := current RSS

const line = Buffer.from('EHLO x\r\n'); // the shortest command with the longest reply
const payload = Buffer.alloc(TOTAL);
for (let i = 0; i + line.length <= TOTAL; i += line.length) line.copy(payload, i);
const t0 = performance.now();
const c: Socket = connect(port, '127.0.0.1');
let closedAt: number | null = null;
c.on('error', () => {});
c.on('close', () => { closedAt = performance.now(); });
c.pause(); // never read a reply
// 64 KiB at a time, each once the kernel took the last: "taken" is what the server let in.
let taken = 0;
let lastProgress = performance.now();
void (async () => {
  for (let at = 0; at < TOTAL && closedAt === null; at += 65536) {
    await new Promise<void>((res) => c.write(payload.subarray(at, at + 65536), () => res()));
    taken = Math.min(TOTAL, at + 65536);
    lastProgress = performance.now();
  }
})();
// Until the server stops taking input for 3 s, the connection closes, or 75 s pass.
while (closedAt === null && performance.now() - lastProgress < 3000 && performance.now() - t0 < 75_000) await sleep(100);
// The server drops a client whose replies do not drain within the idle timeout (pre-AUTH when configured).
while (closedAt === null && performance.now() - t0 < 75_000) await sleep(100);
const peak = status(pid, 'VmHWM');
console.log(`portwarden pid ${pid}: ${(TOTAL / 1048576).toFixed(0)} MiB of pipelined EHLO from a client that never reads`);
console.log(`idle RSS ${idle.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB: growth ${(peak - idle).toFixed(0)} MiB`);
console.log(`sent into the connection (loopback buffers hold MiBs): ${(taken / 1024).toFixed(0)} KiB of ${(TOTAL / 1024).toFixed(0)} KiB`);
console.log(closedAt === null ? 'connection not dropped within 75 s' : `connection dropped after ${((closedAt - t0) / 1000).toFixed(1)} s`);
await sleep(200);
const w = warnings.find((x) => x.msg === 'replies not read');
if (w) console.log(`server: "replies not read" after reading ${(Number(w.bytesIn) / 1024).toFixed(0)} KiB, ${(Number(w.backlog) / 1024).toFixed(0)} KiB of replies unsent`);
c.destroy();
process.exit(0);
