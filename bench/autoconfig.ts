// Autoconfig: POX requests scanned per second (a real 0.4 KiB request, and a
// hostile 16 KiB one at the body limit: 200 elements then refused), and the
// listener's throughput for Thunderbird's GET and Outlook's POX POST with 50
// concurrent clients (autocannon). Prints figures; asserts nothing.
// Run: node bench/autoconfig.ts [seconds-per-case, default 5]
import autocannon from 'autocannon';
import { MemoryLogger } from '../src/core/index.ts';
import { Autoconfig, parsePoxRequest } from '../src/autoconfig/index.ts';
import { autoconfigRoutes, createHttpListener } from '../src/http/index.ts';

const seconds = Math.min(Math.max(Number(process.argv[2] ?? 5), 1), 60);
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;
const POX = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>carol@isp.example</EMailAddress>
  <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>
</Autodiscover>`;
const hostile = '<a>'.repeat(16) + '<b/>'.repeat(4000);

for (const [name, body, n] of [['real request', POX, 200_000], ['hostile 16 KiB', hostile.slice(0, 16 * 1024), 20_000]] as const) {
  const t0 = performance.now();
  let refused = 0;
  for (let i = 0; i < n; i++) if (!parsePoxRequest(body).ok) refused++;
  console.log(`POX scan, ${name} (${body.length} B): ${rate(n, performance.now() - t0)} (${refused} refused)`);
}

const ac = new Autoconfig({ domains: ['isp.example'], server: 'msa.isp.example', starttlsPort: 587, tlsPort: 465, displayName: 'ISP Mail' });
const l = createHttpListener({ name: 'autoconfig', logger: new MemoryLogger(), maxConnections: 256 });
autoconfigRoutes(l.app, { autoconfig: ac });
const port = await l.listen('127.0.0.1', 0);
for (const [name, opts] of [
  ['GET config-v1.1.xml', { url: '/mail/config-v1.1.xml?emailaddress=carol%40isp.example' }],
  ['POST autodiscover.xml', { url: '/autodiscover/autodiscover.xml', method: 'POST' as const, body: POX, headers: { 'content-type': 'text/xml' } }],
] as const) {
  const r = await autocannon({ connections: 50, duration: seconds, ...opts, url: `http://127.0.0.1:${port}${opts.url}` });
  console.log(`${name}: ${Math.round(r.requests.average).toLocaleString("en")} req/s, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}`);
}
await l.close();
