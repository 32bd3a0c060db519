// The Apple mail profile: profiles built and signed per second (plist + CMS
// SignedData), with an ECDSA P-256 key (the node's generated certificate) and
// an RSA-2048 one. Bounded loops; prints figures, asserts nothing.
// Run: node bench/mobileconfig.ts [profiles-per-case, default 500]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Autoconfig, pemSigner } from '../src/autoconfig/index.ts';

const n = Math.min(Math.max(Number(process.argv[2] ?? 500), 1), 20_000);
const dir = mkdtempSync(join(tmpdir(), 'pw-bench-mobileconfig-'));
const ac = new Autoconfig({ domains: ['isp.example'], server: 'msa.isp.example', starttlsPort: 587, tlsPort: 465, displayName: 'ISP Mail', incoming: [{ type: 'imap', hostname: 'imap.isp.example', port: 993, socketType: 'SSL' }] });
try {
  for (const [name, newkey] of [['ECDSA P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']], ['RSA-2048', ['-newkey', 'rsa:2048']]] as const) {
    const cert = join(dir, 'c.pem'), key = join(dir, 'k.pem');
    execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-days', '1', '-subj', '/CN=bench', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const signer = await pemSigner(readFileSync(cert, 'utf8'), readFileSync(key, 'utf8'));
    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const p = ac.profile(`user${i}@isp.example`);
      if (!p.ok) throw new Error('no profile');
      bytes += (await signer.sign(Buffer.from(p.plist))).length;
    }
    const ms = performance.now() - t0;
    console.log(`${name}: ${Math.round((n / ms) * 1000).toLocaleString('en')} signed profiles/s (${n} in ${Math.round(ms)} ms, ${Math.round(bytes / n)} B each)`);
  }
} finally { rmSync(dir, { recursive: true, force: true }); }
