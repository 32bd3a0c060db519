// Child process for the crash-point tests: commits messages four at a time,
// prints "ACK <id>" when a commit resolves (the moment an MSA would say 250),
// and kills itself with SIGKILL at the given commit point of message number N.
import { Spool } from '../index.ts';
import type { CommitPoint } from '../index.ts';

const [dir, point, nth] = process.argv.slice(2);
let started = 0;
const victims = new Map<string, number>();
const spool = await Spool.open(dir, {
  crashHook: (p: CommitPoint, id: string) => {
    if (p === point && victims.get(id) === Number(nth)) process.kill(process.pid, 'SIGKILL');
  },
});
async function one(): Promise<void> {
  const n = ++started;
  const w = spool.create({ mailFrom: { address: 'a@example.org' }, recipients: [{ address: 'b@example.net' }] });
  victims.set(w.id, n);
  w.stream.write(`Subject: ${w.id}\r\n\r\n`);
  w.stream.write(Buffer.alloc(20000, 'x'));
  w.stream.write(`\r\nbody of ${w.id}\r\n`);
  await w.commit();
  process.stdout.write(`ACK ${w.id}\n`);
}
for (let wave = 0; wave < 6; wave++) await Promise.all([one(), one(), one(), one()]);
process.stdout.write('DONE\n');
