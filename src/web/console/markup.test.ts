// The markup rules of every console page, checked on each page with data in
// it: one h1; every table with a caption and column or row headings; every
// control a person fills (input, select, textarea) named by a label[for] or an
// aria-label; ids unique; every form that changes something a POST carrying
// the CSRF token; and the page headers (no script, no framing, no caching).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CSRF, get, withRig } from '../../../test/lib/console-app.ts';

function problems(body: string): string[] {
  const out: string[] = [];
  if ((body.match(/<h1[ >]/g) ?? []).length !== 1) out.push('not exactly one h1');
  for (const t of body.match(/<table>[^]*?<\/table>/g) ?? []) {
    if (!t.includes('<caption>')) out.push(`a table without caption: ${t.slice(0, 80)}`);
    if (!/<th scope="(col|row)">/.test(t)) out.push(`a table without headings: ${t.slice(0, 80)}`);
  }
  const labels = new Set([...body.matchAll(/<label for="([^"]+)">/g)].map((m) => m[1]));
  for (const m of body.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
    const attrs = m[2];
    if (/type="hidden"/.test(attrs)) continue;
    const id = /\bid="([^"]+)"/.exec(attrs)?.[1];
    if (!/aria-label="[^"]+"/.test(attrs) && !(id && labels.has(id))) out.push(`an unlabelled ${m[1]}: ${attrs.slice(0, 80)}`);
  }
  const ids = [...body.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  for (const id of new Set(ids)) if (ids.filter((x) => x === id).length > 1) out.push(`id ${id} used twice`);
  for (const f of body.match(/<form method="post"[^]*?<\/form>/g) ?? []) {
    if (!f.includes(`<input type="hidden" name="_csrf" value="${CSRF}">`)) out.push(`a POST form without the CSRF token: ${f.slice(0, 80)}`);
  }
  if (/<script|\son\w+=/i.test(body)) out.push('script in the page');
  return out;
}

test('every console page: one h1, tables with captions and headings, every control labelled, unique ids, CSRF in every POST form, the page headers', async (t) => {
  const r = await withRig(t);
  await r.app.accounts!.add({ login: 'bob@isp.example', password: 'a long password here', subscriber: 'sub-1', addresses: ['@bob.example', 'b@x.example'] });
  await r.directory.putSubscriber({ id: 'sub-1', tier: 'residential', contacts: ['bob@home.example'] });
  await r.directory.assign({ subscriber: 'sub-1', prefix: '198.51.100.7', portLo: null, portHi: null, start: r.clock.now(), end: null, source: 'api', session: null });
  await r.directory.assign({ subscriber: 'sub-1', prefix: '198.51.100.8', portLo: null, portHi: null, start: r.clock.now(), end: null, source: 'static', session: null });
  const id = await r.queue({ from: 'bob@isp.example', to: 'dave@example.net', account: 'bob@isp.example' });
  await r.queue({ from: 'bob@isp.example', to: 'erin@example.net', account: 'bob@isp.example' });
  await r.bot('198.51.100.7', 40);
  const why = { actor: 'test', reason: 'test' };
  await r.app.policy!.addPool('198.51.100.0/24', 'dynamic', '', why);
  await r.app.policy!.addPool('203.0.113.0/24', 'business', '', why);
  await r.app.policy!.addExemption('203.0.113.9', 'c-9', null, why);
  await r.app.policy!.addGarden('192.0.2.80', 'tcp', '80,443', '', why);
  const pages = ['/accounts', '/accounts/bob%40isp.example', '/subscribers', '/subscribers/sub-1', '/subscribers?address=198.51.100.7',
    '/queue', `/queue/${id}`, '/cases', '/cases/c1', '/policy', '/policy/edges', '/audit'];
  for (const p of pages) {
    const page = await get(`${r.url}${p}`);
    assert.equal(page.status, 200, p);
    assert.deepEqual(problems(page.body), [], p);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/, p);
    assert.equal(page.headers.get('x-frame-options'), 'DENY', p);
    assert.equal(page.headers.get('cache-control'), 'no-store', p);
  }
});
