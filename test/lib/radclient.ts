// FreeRADIUS's radclient (Debian freeradius-utils) as the NAS in tests: one
// call sends the given records (blank line between packets) and reports
// whether an Accounting-Response came back for each (radclient checks the
// Response Authenticator with the secret itself).
import { spawn } from 'node:child_process';

export interface RadclientResult { code: number | null; out: string; replies: number }

export function radclient(target: string, secret: string, packets: string[], o: { retries?: number; timeout?: number; parallel?: number } = {}): Promise<RadclientResult> {
  const args = ['-x', '-r', String(o.retries ?? 1), '-t', String(o.timeout ?? 1), '-p', String(o.parallel ?? 1), target, 'acct', secret];
  return new Promise((resolve, reject) => {
    const c = spawn('radclient', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, out, replies: (out.match(/Received Accounting-Response/g) ?? []).length }));
    c.stdin.end(packets.map((p) => p.trim() + '\n').join('\n'));
  });
}

/** "Attr = value" lines from an object (strings quoted as radclient reads them). */
export function packet(attrs: Record<string, string | number>): string {
  return Object.entries(attrs).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : JSON.stringify(v)}`).join('\n');
}
