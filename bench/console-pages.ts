// The console's pages on a real app layer (test/lib/console-app.ts) with some
// data in it — 200 accounts, 100 queued messages, a bot's case, policy
// entries, a few hundred audit rows: each page's weight (bytes of HTML, gzip
// not applied) and its time to first byte over loopback HTTP, median of N
// requests after a warm-up. Prints figures; asserts nothing.
// Run: node bench/console-pages.ts [requests per page, default 50]
import { consoleRig } from '../test/lib/console-app.ts';

const N = Math.min(Math.max(Number(process.argv[2] ?? 50), 5), 1000);
const r = await consoleRig();
try {
  const why = { actor: 'bench', reason: 'bench' };
  await r.app.accounts!.add({ login: 'user000@isp.example', password: 'a long password here', subscriber: 'sub-0' });
  const hash = (await r.app.accounts!.authRecord('user000@isp.example'))!.hash; // one argon2id hash for all: the bench is not about hashing
  for (let i = 1; i < 200; i++) {
    await r.app.accounts!.add({ login: `user${String(i).padStart(3, '0')}@isp.example`, hash, subscriber: `sub-${i % 80}` });
  }
  for (let i = 0; i < 100; i++) await r.queue({ from: `user${String(i).padStart(3, '0')}@isp.example`, to: `rcpt${i}@example.net`, account: `user${String(i).padStart(3, '0')}@isp.example` });
  await r.directory.putSubscriber({ id: 'sub-1', tier: 'residential', contacts: ['one@home.example'] });
  await r.directory.assign({ subscriber: 'sub-1', prefix: '198.51.100.7', portLo: null, portHi: null, start: r.clock.now(), end: null, source: 'api', session: null });
  await r.bot('198.51.100.7', 40);
  await r.app.policy!.addPool('198.51.100.0/24', 'dynamic', 'DSL', why);
  await r.app.policy!.addRelay('192.0.2.25', 'provider', '', 'MX out', why);
  for (let i = 0; i < 20; i++) await r.app.policy!.addExemption(`203.0.113.${i}`, `c-${i}`, null, why);
  for (let i = 0; i < 300; i++) {
    await r.app.audit!.write({ at: r.clock.now(), actorKind: 'staff', actor: 'alice', from: '127.0.0.1', action: 'accounts.disable', object: `account u${i}`, reason: 'bench', outcome: 'ok', detail: '{}' });
  }
  const id = /href="\/queue\/([0-9A-Z]+)"/.exec(await (await fetch(`${r.url}/queue`)).text())?.[1] ?? '';
  const pages = ['/accounts', '/accounts/user001%40isp.example', '/subscribers', '/subscribers/sub-1', '/queue', `/queue/${id}`, '/cases', '/cases/c1', '/policy', '/policy/edges', '/audit'];
  console.log(`page\tbytes\tTTFB median ms\tp90 ms\t(${N} requests each)`);
  for (const p of pages) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < N + 3; i++) {
      const t0 = performance.now();
      const res = await fetch(`${r.url}${p}`);
      const reader = res.body!.getReader();
      const first = await reader.read();
      const ttfb = performance.now() - t0;
      let n = first.value?.length ?? 0;
      for (let c = await reader.read(); !c.done; c = await reader.read()) n += c.value.length;
      if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
      if (i >= 3) times.push(ttfb);
      bytes = n;
    }
    times.sort((a, b) => a - b);
    console.log(`${p}\t${bytes}\t${times[Math.floor(times.length / 2)].toFixed(1)}\t${times[Math.floor(times.length * 0.9)].toFixed(1)}`);
  }
} finally {
  await r.close();
}
