// The NASes allowed to send accounting: "CLIENT-ADDRESS-OR-PREFIX SECRET" per
// line ('#' starts a comment; the secret is the rest of the line, so it may
// hold spaces but not begin or end with one). The file must not be writable by
// group or others nor readable by others (0600 or 0640 with a group such as
// the FreeRADIUS one): a secret anyone can read lets anyone forge accounting.
// A packet's source is matched by the longest prefix.
import { readFileSync, statSync } from 'node:fs';
import { maskIp, parseIp, type IpAddr } from '../core/index.ts';

export interface RadiusClient { net: IpAddr; len: number; secret: Buffer; text: string }

export class SecretFileError extends Error {}

export function parseClients(text: string, where = 'secret file'): RadiusClient[] {
  const out: RadiusClient[] = [];
  text.split('\n').forEach((line, i) => {
    const s = line.replace(/\r$/, '');
    if (!s.trim() || s.trimStart().startsWith('#')) return;
    const m = /^\s*(\S+)\s+(\S(?:.*\S)?)\s*$/.exec(s);
    if (!m) throw new SecretFileError(`${where}:${i + 1}: expected "CLIENT-ADDRESS-OR-PREFIX SECRET"`);
    const [addr, lenText] = m[1].split('/');
    const a = parseIp(addr);
    const max = a?.v === 4 ? 32 : 128;
    const len = lenText === undefined ? max : /^\d{1,3}$/.test(lenText) ? Number(lenText) : -1;
    if (!a || len < 0 || len > max) throw new SecretFileError(`${where}:${i + 1}: ${JSON.stringify(m[1])} is not an address or prefix`);
    out.push({ net: maskIp(a, len), len, secret: Buffer.from(m[2], 'utf8'), text: m[1] });
  });
  return out;
}

/** Reads and checks the file; throws SecretFileError with the reason (config check and start show it). */
export function loadClients(path: string): RadiusClient[] {
  let mode: number;
  try { mode = statSync(path).mode; } catch (err) {
    throw new SecretFileError(`${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (mode & 0o027) throw new SecretFileError(`${path}: mode ${(mode & 0o777).toString(8)} lets others read it or others and the group write it; chmod 600 (or 640)`);
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) {
    throw new SecretFileError(`${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const clients = parseClients(text, path);
  if (!clients.length) throw new SecretFileError(`${path}: no client lines`);
  return clients;
}

export function matchClient(clients: readonly RadiusClient[], address: string): RadiusClient | null {
  const a = parseIp(address);
  if (!a) return null;
  let best: RadiusClient | null = null;
  for (const c of clients) {
    if (c.net.v !== a.v || (best && best.len >= c.len)) continue;
    const m = maskIp(a, c.len);
    if (m.b.every((x, i) => x === c.net.b[i])) best = c;
  }
  return best;
}
