// The public portal pages on a real listener, asked with curl: the guides carry
// the configured server, ports and security, never port 25 as a setting and
// never a password field; the Apple profile link is only for our domains and a
// refused address is shown again with the error beside it; "Am I blocked?"
// answers for the connection's own address, believes X-Forwarded-For only from
// a trusted proxy, and never shows a subscriber id, a case id or a pool prefix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ADDR, portalWorld, servePortal, type PortalWorld } from '../../../test/lib/portal.ts';
import { needTools } from '../../../test/lib/tools.ts';
import { GUIDE_FAMILIES } from './texts.ts';

const skip = needTools('curl');
let w: PortalWorld, port: number, close: () => Promise<void>;
let proxied: number, closeProxied: () => Promise<void>;

before(async () => {
  if (skip) return;
  w = await portalWorld();
  const s = await servePortal(w);
  port = s.port; close = () => s.listener.close();
  const p = await servePortal(w, { trustedProxies: ['127.0.0.0/8'], displayName: 'Proxied ISP' });
  proxied = p.port; closeProxied = () => p.listener.close();
});
after(async () => { await close?.(); await closeProxied?.(); await w?.close(); });

/** curl in a child process (asynchronously: the server answers from this very process). */
async function curl(path: string, o: { port?: number; headers?: string[] } = {}): Promise<{ status: number; headers: string; body: string }> {
  const { stdout: out } = await promisify(execFile)('curl', ['-sS', '-i', ...(o.headers ?? []).flatMap((h) => ['-H', h]), `http://127.0.0.1:${o.port ?? port}${path}`], { encoding: 'utf8' });
  const at = out.indexOf('\r\n\r\n');
  const headers = out.slice(0, at);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)![1]), headers: headers.toLowerCase(), body: out.slice(at + 4) };
}

const text = (body: string): string => body.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/\s+/g, ' ');

test('the guide index and every family: real host, 465 SSL/TLS and 587 STARTTLS, normal password, full address; no password field; page headers', { skip }, async () => {
  const idx = (await curl('/guides'));
  assert.equal(idx.status, 200);
  assert.match(idx.headers, /content-security-policy: default-src 'none'/);
  for (const f of GUIDE_FAMILIES) assert.ok(idx.body.includes(`href="/guides/${f}"`), f);
  assert.match(text(idx.body), /Why port 25 is blocked/);
  for (const f of GUIDE_FAMILIES) {
    const g = (await curl(`/guides/${f}`));
    assert.equal(g.status, 200, f);
    const t = text(g.body);
    assert.match(t, /Outgoing \(SMTP\) smtp\.isp\.example 465 SSL\/TLS Normal password Your full e-mail address/, f);
    assert.match(t, /Outgoing \(SMTP\) smtp\.isp\.example 587 STARTTLS Normal password/, f);
    assert.match(t, /Incoming \(IMAP\) imap\.isp\.example 993 SSL\/TLS/, f);
    assert.doesNotMatch(g.body, /type="password"/i, `${f}: never a password field`);
    assert.doesNotMatch(g.body, /<td>25<\/td>|:25\b/, `${f}: port 25 is never a setting`);
    assert.equal((g.body.match(/<h1>/g) ?? []).length, 1, `${f}: one h1`);
  }
  const cl = text((await curl('/guides/command-line')).body);
  assert.match(cl, /host smtp\.isp\.example port 465 tls on tls_starttls off auth on user you@isp\.example/);
  assert.match(cl, /smtps:\/\/you%40isp\.example@smtp\.isp\.example:465\//);
  const dev = (await curl('/guides/device'));
  assert.match(text(dev.body), /relayhost = \[smtp\.isp\.example\]:587/);
  assert.ok(dev.body.includes('href="/exemption"'), 'the device guide links the exemption request');
});

test('an unknown guide is a 404 page in words, not an error', { skip }, async () => {
  const r = (await curl('/guides/%3Cscript%3E'));
  assert.equal(r.status, 404);
  assert.match(text(r.body), /There is no such guide/);
  assert.ok(!r.body.includes('<script>'));
});

test('Apple: the profile link for one of our addresses; another is refused beside the field and shown again, escaped', { skip }, async () => {
  const good = (await curl('/guides/apple?emailaddress=Bob%40ISP.example'));
  assert.ok(good.body.includes('href="http://autoconfig.isp.example/mobileconfig?emailaddress=Bob%40isp.example"'), good.body);
  const bad = (await curl('/guides/apple?emailaddress=%22%3E%3Cb%3Ex%40elsewhere.example'));
  assert.match(bad.body, /aria-invalid="true" aria-describedby="emailaddress-error"/);
  assert.match(text(bad.body), /That is not one of our e-mail addresses\. Please type the whole address, ending in @isp\.example\./);
  assert.ok(bad.body.includes('value="&#34;&#62;&#60;b&#62;x@elsewhere.example"'), 'the input comes back, escaped');
  assert.ok(!bad.body.includes('mobileconfig?'), 'no link for an address not ours');
});

test('"Am I blocked?" from loopback: not one of ours; X-Forwarded-For is not believed from an untrusted peer', { skip }, async () => {
  const r = (await curl('/blocked', { headers: [`X-Forwarded-For: ${ADDR.dynamic}`] }));
  assert.equal(r.status, 200);
  const t = text(r.body);
  assert.match(t, /You are connected from 127\.0\.0\.1/);
  assert.match(t, /Not one of our addresses/);
  assert.match(t, /We do not block anything for this address/);
});

test('"Am I blocked?" through a trusted proxy: each class in words, without internals', { skip }, async () => {
  const ask = async (a: string) => text((await curl('/blocked', { port: proxied, headers: [`X-Forwarded-For: 6.6.6.6, ${a}`] })).body);
  const d = (await ask(ADDR.dynamic));
  assert.match(d, new RegExp(`You are connected from ${ADDR.dynamic.replace(/\./g, '\\.')} \\(as our front-end server saw it\\)`));
  assert.match(d, /One of our home internet addresses/);
  assert.match(d, /Blocked\. Devices on this connection cannot deliver mail straight to other mail servers on port 25/);
  assert.match(d, /No: there is no open case about this connection/);
  assert.match(d, /Our own list of home addresses, which other mail servers consult, includes this address/);
  assert.match((await ask(ADDR.static)), /A fixed \(static\) address from us\. .*Not blocked: fixed and business addresses may deliver mail directly/);
  assert.match((await ask(ADDR.business)), /One of our business addresses/);
  const c = (await ask(ADDR.cgnat));
  assert.match(c, /many of our customers share at the same time \(carrier-grade NAT\)/);
  assert.match(c, /Many customers share this address, so we cannot tell which of them this is about/);
  assert.match(c, /A shared address cannot get an exemption/);
  const e = (await ask(ADDR.exempt));
  assert.match(e, /Allowed: this connection has a port-25 exemption\. The exemption ends on 1 March 2027\./);
  assert.match(e, /Renew the exemption before it ends/);
  const q = (await ask(ADDR.quarantined));
  assert.match(q, /This connection is in a safe mode for now/);
  assert.match(q, /Yes: there is an open case about this connection/);
  assert.match(q, /on a block list kept by others: xbl\.example/);
  assert.doesNotMatch(q, /Ask for a port-25 exemption/, 'no exemption offered while quarantined');
  assert.match(q, /Read the notice about this connection/);
  const body = (await curl('/blocked', { port: proxied, headers: [`X-Forwarded-For: ${ADDR.quarantined}`] })).body;
  for (const secret of ['gina', 'case-30', '198.51.100.0/24', '127.0.0.4']) assert.ok(!body.includes(secret), `never shown: ${secret}`);
  assert.ok(body.includes('href="https://portal.isp.example/notice"'));
  assert.match((await ask(ADDR.customerServer)), /belongs to a mail server that may deliver directly/);
});

test('a forwarded address that is not one is "cannot tell", not a crash', { skip }, async () => {
  const r = (await curl('/blocked', { port: proxied, headers: ['X-Forwarded-For: not-an-ip'] }));
  assert.equal(r.status, 200);
  assert.match(text(r.body), /We cannot tell where you connect from/);
});
