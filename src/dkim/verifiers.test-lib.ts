// Independent verifiers for the tests: dkimpy (Debian python3-dkim) and
// mailauth's verifier. Keys come from a map handed to each, never from DNS.
import { execFileSync, spawn } from 'node:child_process';
import { dkimVerify } from 'mailauth';

const PY_CANDIDATES = ['/usr/bin/python3', 'python3'];

// Verifies every DKIM-Signature in the message (dkimpy's verify() checks only one).
const PY = `
import sys, json, dkim
recs = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    return recs.get(n.rstrip('.'), '').encode()
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg, minkey=1024)
count = sum(1 for k, _ in d.headers if k.lower() == b'dkim-signature')
out = []
for i in range(count):
    try:
        out.append(bool(d.verify(idx=i, dnsfunc=dnsfunc)))
    except Exception as e:
        out.append('error: %s' % e)
print(json.dumps(out))
`;

let python: string | null | undefined;

/** A Python with dkimpy and PyNaCl, or a skip reason (throws under CI, where .ci/run installs python3-dkim). */
export function dkimpyMissing(): string | false {
  if (python === undefined) {
    python = null;
    for (const p of PY_CANDIDATES) {
      try {
        execFileSync(p, ['-c', 'import dkim, nacl'], { stdio: 'ignore' });
        python = p;
        break;
      } catch { /* try the next one */ }
    }
  }
  if (python) return false;
  const msg = 'missing python3-dkim (dkimpy with PyNaCl; .ci/run installs it)';
  if (process.env.CI === 'true') throw new Error(msg);
  return msg;
}

/** dkimpy's verdict on each DKIM-Signature field, top first: true, false, or an error text. */
export function dkimpyVerify(message: Buffer, records: Record<string, string>): Promise<Array<boolean | string>> {
  if (dkimpyMissing()) throw new Error('dkimpy not available');
  return new Promise((resolve, reject) => {
    const child = spawn(python!, ['-c', PY, JSON.stringify(records)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`dkimpy exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as Array<boolean | string>);
    });
    child.stdin.on('error', () => { /* reported through close */ });
    child.stdin.end(message);
  });
}

/** mailauth's verdict on each DKIM-Signature field: 'pass', 'fail', 'neutral', …. */
export async function mailauthVerify(message: Buffer, records: Record<string, string>): Promise<string[]> {
  const res = await dkimVerify(message, {
    resolver: async (name: string, rrtype: string) => {
      const txt = records[name.replace(/\.$/, '')];
      if (rrtype !== 'TXT' || !txt) throw Object.assign(new Error('no such record'), { code: 'ENOTFOUND' });
      return [[txt]];
    },
  });
  return res.results.map((r) => r.status.result);
}
