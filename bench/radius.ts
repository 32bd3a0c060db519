// RADIUS accounting: packets decoded and verified per second (the codec alone),
// then Accounting-Requests answered per second by the server on loopback with
// the real directory (SQLite in a temporary directory): Starts of new
// subscribers (resolve, create, assign: the worst case), Interim-Updates of held
// sessions (no write), Stops (end), Starts of the same subscribers' next
// sessions (assign only), with W requests in flight from one client; then the
// applier alone (no UDP) for Interim-Updates
// that checks every Response Authenticator. Bounded by N packets per phase and
// 60 s. Prints figures; asserts nothing.
// Run: node bench/radius.ts [N per phase, default 5000] [in flight, default 64]
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { MemoryLogger, systemClock } from '../src/core/index.ts';
import { openStore } from '../src/store/index.ts';
import { AccountingApplier, openDirectory, parseClients, RadiusServer } from '../src/directory/index.ts';
import { ATTR, decodePacket, encodeAccountingRequest, verifyAccountingRequest, verifyAccountingResponse } from '../src/directory/radius-codec.ts';
import { tempDir } from '../test/lib/tools.ts';

const N = Math.min(Math.max(Number(process.argv[2] ?? 5000), 100), 100_000);
const W = Math.min(Math.max(Number(process.argv[3] ?? 64), 1), 255);
const SECRET = Buffer.from('bench-secret');
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const T = Math.floor(Date.now() / 1000);

function request(i: number, status: number, id: number, round = 1): Buffer {
  return encodeAccountingRequest(id, [
    { type: ATTR.userName, value: Buffer.from(`user-${i}`) }, { type: ATTR.acctStatusType, value: u32(status) },
    { type: ATTR.acctSessionId, value: Buffer.from(`s${round}-${i}`) }, { type: ATTR.nasIdentifier, value: Buffer.from('bng1') },
    { type: ATTR.framedIpAddress, value: Buffer.from([100, 64 + ((i >> 16) & 63), (i >> 8) & 255, i & 255]) },
    { type: ATTR.eventTimestamp, value: u32(T + 100 * round + (status === 2 ? 60 : 0)) },
  ], SECRET);
}

// The codec alone.
const sample = request(1, 1, 1);
let t0 = performance.now();
let verified = 0;
for (let i = 0; i < 200_000; i++) { const d = decodePacket(sample); if (d.ok && verifyAccountingRequest(d.packet, SECRET)) verified++; }
const codecMs = performance.now() - t0;

const tmp = tempDir('pw-bench-radius-');
const store = await openStore({ kind: 'sqlite', path: join(tmp.path, 'state.db') });
const dir = await openDirectory(store, { clock: systemClock, logger: new MemoryLogger() });
const server = new RadiusServer({ repo: dir, clients: parseClients('127.0.0.1 bench-secret\n'), logger: new MemoryLogger() });
const { port } = await server.listen('127.0.0.1', 0);
const sock = createSocket('udp4');
await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));

/** Sends N requests with W outstanding (identifiers 0..255 reused as answers come back); resolves with the time taken. */
async function phase(status: number, round = 1): Promise<{ ms: number; answered: number; bad: number }> {
  const pending = new Map<number, Buffer>();
  let next = 0, answered = 0, bad = 0;
  const start = performance.now();
  const deadline = start + 60_000;
  return new Promise((resolve) => {
    const free: number[] = Array.from({ length: 256 }, (_, i) => i);
    const send = (): void => {
      while (pending.size < W && next < N && free.length) {
        const id = free.pop()!;
        const req = request(next++, status, id, round);
        pending.set(id, req);
        sock.send(req, port, '127.0.0.1');
      }
      if ((answered === N) || performance.now() > deadline) { sock.off('message', onMessage); resolve({ ms: performance.now() - start, answered, bad }); }
    };
    const onMessage = (m: Buffer): void => {
      const req = pending.get(m[1]);
      if (!req) return;
      if (!verifyAccountingResponse(m, req.subarray(4, 20), SECRET)) bad++;
      pending.delete(m[1]);
      free.push(m[1]);
      answered++;
      send();
    };
    sock.on('message', onMessage);
    send();
  });
}

const starts = await phase(1);
const interims = await phase(3);
const stops = await phase(2);
const again = await phase(1, 2);
// The applier alone (no UDP, no codec): Interim-Updates of the sessions the last phase started.
const applier = new AccountingApplier(dir);
t0 = performance.now();
await Promise.all(Array.from({ length: N }, (_, i) => applier.apply({ status: 'interim', nas: 'bng1', user: `user-${i}`, sessionId: `s2-${i}`,
  held: [{ prefix: `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`, portLo: null, portHi: null, release: false }], at: (T + 300) * 1000 })));
const applierMs = performance.now() - t0;
sock.close();
await server.close();
await dir.close();
await store.close();
tmp.remove();

console.log(`RADIUS accounting (${N} packets a phase, ${W} in flight, SQLite directory, one core shared with the client)`);
console.log(`  codec: decode + verify Request Authenticator   ${rate(verified, codecMs)}`);
for (const [name, r] of [['Start (new subscriber + assign)', starts], ['Interim-Update (held, no write)', interims], ['Stop (end)', stops], ['Start (known subscriber: assign)', again]] as const) {
  console.log(`  ${name.padEnd(34)} ${rate(r.answered, r.ms).padStart(10)}  answered ${r.answered}/${N}${r.bad ? `, ${r.bad} bad authenticators` : ''}`);
}
console.log(`  the applier alone, Interim-Updates of held sessions  ${rate(N, applierMs)}`);
console.log(`  server counts: ${JSON.stringify(server.counts)}`);
