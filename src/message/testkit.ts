// Test helpers for this folder only (not exported by index.ts): run the fixer
// over chunked input and check its output with a strict reader of our own
// invariants (every line CRLF and <= 998 octets, Received first, one valid
// Message-ID and Date, no whitespace-only header line, no NUL).
import assert from 'node:assert/strict';
import { ManualClock } from '../core/index.ts';
import { isValidMessageId, parseRfc5322Date } from './fields.ts';
import { MessageFixer, type FixerOptions, type FixResult } from './fixer.ts';

export const HOST = 'mail.isp.example';
export const RECEIVED =
  'from laptop.example (unknown [192.0.2.7]) (Authenticated sender: alice@isp.example) by mail.isp.example (portwarden) with ESMTPSA id Q7K2 ; Thu, 01 Jan 2026 00:00:00 +0000';

export interface Run {
  out: Buffer;
  result: FixResult;
  rejects: number;
}

export async function run(input: Buffer | string | Buffer[], opts: Partial<FixerOptions> = {}): Promise<Run> {
  const chunks = Array.isArray(input) ? input : [typeof input === 'string' ? Buffer.from(input, 'latin1') : input];
  const fixer = new MessageFixer({ hostname: HOST, clock: new ManualClock(), ...opts }, { received: RECEIVED, queueId: 'Q7K2' });
  let rejects = 0;
  fixer.on('reject', () => rejects++);
  const parts: Buffer[] = [];
  fixer.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve, reject) => { fixer.on('end', resolve); fixer.on('error', reject); });
  // Direct writes: each chunk reaches _transform as is (a piped Readable may coalesce them).
  for (const c of chunks) fixer.write(c);
  fixer.end();
  await done;
  return { out: Buffer.concat(parts), result: fixer.result, rejects };
}

/** Splits a buffer at the given offsets. */
export function split(b: Buffer, ...at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const a of at) { out.push(b.subarray(prev, a)); prev = a; }
  out.push(b.subarray(prev));
  return out.filter((x) => x.length > 0);
}

export interface Parsed {
  fields: Array<{ name: string; value: string; raw: string }>;
  body: string;
  get(name: string): string[];
}

/** Reads fixer output strictly; fails the test on any broken invariant. */
export function parseStrict(out: Buffer): Parsed {
  assert.equal(out.indexOf(0), -1, 'NUL in output');
  const s = out.toString('latin1');
  assert.ok(s.endsWith('\r\n'), 'output does not end with CRLF');
  const lines = s.slice(0, -2).split('\r\n');
  for (const l of lines) {
    assert.ok(!l.includes('\r') && !l.includes('\n'), `bare CR or LF in line ${JSON.stringify(l.slice(0, 80))}`);
    assert.ok(l.length <= 998, `line of ${l.length} octets`);
  }
  const sep = lines.indexOf('');
  assert.ok(sep > 0, 'no header/body separator');
  const fields: Parsed['fields'] = [];
  for (const l of lines.slice(0, sep)) {
    assert.ok(!/^[ \t]+$/.test(l), 'whitespace-only header line');
    if (l[0] === ' ' || l[0] === '\t') {
      assert.ok(fields.length > 0, 'continuation before any field');
      const f = fields[fields.length - 1];
      f.raw += `\r\n${l}`;
      f.value += l;
    } else {
      const m = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$/.exec(l);
      assert.ok(m, `not a header field: ${JSON.stringify(l.slice(0, 80))}`);
      fields.push({ name: m[1].toLowerCase(), value: m[2], raw: l });
    }
  }
  for (const f of fields) f.value = f.value.replace(/^[ \t]+|[ \t]+$/g, '');
  assert.equal(fields[0].name, 'received', 'Received is not first');
  const get = (n: string): string[] => fields.filter((f) => f.name === n).map((f) => f.value);
  assert.equal(get('message-id').length, 1, 'not exactly one Message-ID');
  assert.ok(isValidMessageId(get('message-id')[0]), 'invalid Message-ID');
  assert.equal(get('date').length, 1, 'not exactly one Date');
  assert.notEqual(parseRfc5322Date(get('date')[0]), null, 'unparseable Date');
  return { fields, body: lines.slice(sep + 1).join('\r\n') + (sep + 1 < lines.length ? '\r\n' : ''), get };
}

/** Output with the random part of generated Message-IDs masked, for comparisons. */
export const masked = (b: Buffer): string => b.toString('latin1').replace(/\.[0-9a-f]{16}@/g, '.RANDOM@');
