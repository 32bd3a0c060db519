// The reply catalogue is the only place a reply text is built. This reads every
// source file under src/ with the TypeScript parser (not a line grep: a reply
// split over lines, built through an alias of reply() or as a plain object is
// still found) and names each reply built elsewhere. Test doubles (tests,
// testkits, fixtures) may answer what they like and are left out by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { REPLIES, replyKeyOf, replyLine, retryText, type ReplyKey } from './index.ts';

const SRC = join(import.meta.dirname, '..');
const CATALOGUE = new Set(['core/replies.ts', 'core/reply.ts']);
/** Files that are test doubles, not the server: their replies are what a fake peer says. */
const DOUBLES = [/\.test\.ts$/, /\.test-lib\.ts$/, /(^|\/)testkit\.ts$/, /\/testdata\//, /\/golden\/fixture\.ts$/, /(^|\/)bench-[^/]*\.ts$/, /-fixture\.ts$/,
  // The event catalogue's examples document what a log line looks like; they are never sent.
  /(^|\/)events\/catalogue\.ts$/];

function sources(): string[] {
  const out: string[] = [];
  for (const e of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue;
    const rel = relative(SRC, join(e.parentPath, e.name)).split('\\').join('/');
    if (!CATALOGUE.has(rel) && !DOUBLES.some((d) => d.test(rel))) out.push(rel);
  }
  return out.sort();
}

/** A reply line: "NNN " or "NNN-" then an enhanced code or text (what a client would read). */
const REPLY_LINE = /^[2-5][0-5]\d[ -](?:[2-5]\.\d{1,3}\.\d{1,3}\b|[A-Za-z<])/;
const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;

function textOf(n: ts.Node): string | null {
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  if (ts.isTemplateExpression(n)) return n.head.text;
  return null;
}

const propName = (p: ts.ObjectLiteralElementLike): string | null =>
  p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : null;

/** Every place in one file's text where a reply is built outside the catalogue. */
export function offences(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const at = (n: ts.Node, what: string): void => {
    found.push(`${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${what}`);
  };
  const visit = (n: ts.Node): void => {
    // The builder itself, under any name: only the catalogue imports it.
    if (ts.isImportSpecifier(n) && (n.propertyName ?? n.name).text === 'reply') at(n, 'imports reply()');
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'reply') at(n, 'calls reply()');
    // A Reply written as an object: { code: 4xx, enhanced | text }.
    if (ts.isObjectLiteralExpression(n)) {
      const names = new Map(n.properties.map((p) => [propName(p), p] as const));
      const code = names.get('code');
      if (code && ts.isPropertyAssignment(code) && ts.isNumericLiteral(code.initializer) && (names.has('enhanced') || names.has('text'))) {
        at(n, `a reply object literal with code ${code.initializer.text}`);
      }
      const enh = names.get('enhanced');
      if (enh && ts.isPropertyAssignment(enh)) {
        const t = textOf(enh.initializer);
        if (t !== null && ENHANCED.test(t)) at(n, `a literal enhanced code ${t}`);
      }
    }
    const t = textOf(n);
    if (t !== null && REPLY_LINE.test(t)) at(n, `a reply line ${JSON.stringify(t.slice(0, 40))}`);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

test('no reply is built outside the catalogue (src/core/replies.ts)', () => {
  const files = sources();
  assert.ok(files.length > 100 && files.includes('submission/handler.ts') && files.includes('cli/limits.ts'), `scanned ${files.length} files`);
  const all = files.flatMap((f) => offences(f, readFileSync(join(SRC, f), 'utf8')));
  assert.deepEqual(all, []);
});

test('the scan finds each way a reply used to be built', () => {
  const cases: Array<[string, string]> = [
    ["import { reply } from '../core/index.ts';", 'imports reply()'],
    ["import { reply as r } from '../core/index.ts';", 'imports reply()'],
    ["const x = reply(451,\n  '4.3.0', 'Error');", 'calls reply()'],
    ["const x = { code: 451, enhanced: e, text: 'later' };", 'a reply object literal with code 451'],
    ["const x = { code: c, enhanced: '4.3.0', text };", 'a literal enhanced code 4.3.0'],
    ["return { ok: false, reply: `451 4.4.3 DNS lookup of ${d} failed` };", 'a reply line "451 4.4.3 DNS lookup of "'],
    ["export const LOCKED = '450 4.7.0 Too many failed logins; try again later';", 'a reply line'],
    ["send('221 Bye');", 'a reply line'],
  ];
  for (const [src, want] of cases) {
    const got = offences('x.ts', src);
    assert.equal(got.length, 1, `${src} → ${got.join('; ')}`);
    assert.ok(got[0].includes(want), `${src} → ${got[0]}`);
  }
  // Not replies: status codes as numbers, log fields, parsing patterns.
  for (const src of ["const ok = r.code === 250;", "log({ code: '250' });", "const m = /^(\\d{3})[ -]/.exec(line);", "const s = '2.0.0';"]) {
    assert.deepEqual(offences('x.ts', src), [], src);
  }
});

test('every catalogue entry is used by some part', () => {
  const text = sources().map((f) => readFileSync(join(SRC, f), 'utf8')).join('\n');
  // Used as R.key / REPLIES.key, or (smtp/replies.ts destructures the builders) called by its name.
  const unused = (Object.keys(REPLIES) as ReplyKey[])
    .filter((k) => !new RegExp(`\\b(?:R|REPLIES)\\.${k}\\b`).test(text) && !new RegExp(`[^.\\w]${k}\\(`).test(text));
  assert.deepEqual(unused, []);
});

test('replyLine: one line, optionally another code of the same class; retryText in minutes, then hours', () => {
  assert.equal(replyLine(REPLIES.authLocked, 450), '450 4.7.0 Too many failed authentication attempts; try again later');
  assert.equal(replyLine(REPLIES.senderDisabled('https://isp.example/\r\nX')), '550 5.7.1 Account disabled; see https://isp.example/ X');
  assert.equal(replyLine(REPLIES.startData), '354 End data with <CR><LF>.<CR><LF>');
  assert.throws(() => replyLine(REPLIES.authLocked, 550), RangeError);
  assert.equal(retryText(1), 'try again in 1 minute');
  assert.equal(retryText(12 * 60_000), 'try again in 12 minutes');
  assert.equal(retryText(119 * 60_000), 'try again in 119 minutes');
  assert.equal(retryText(150 * 60_000), 'try again in 3 hours');
  assert.equal(retryText(Infinity), 'this request is larger than the limit allows');
});

test('replyKeyOf names the catalogue entry a reply was made from (refusals are counted by it)', () => {
  assert.equal(replyKeyOf(REPLIES.authRequired), 'authRequired');
  assert.equal(replyKeyOf(REPLIES.limited(undefined, 60_000, 'https://isp.example/help')), 'limited');
  assert.equal(replyKeyOf(REPLIES.senderNotOwned('alice')), 'senderNotOwned');
  assert.equal(replyKeyOf({ ...REPLIES.authRequired }), null, 'a copy is no catalogue reply');
});
