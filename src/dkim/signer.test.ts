import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { DkimSigner, dkimKeygen, type GeneratedKey } from './index.ts';
import { dkimpyMissing, dkimpyVerify, mailauthVerify } from './verifiers.test-lib.ts';

const skip = dkimpyMissing();
let rsa: GeneratedKey;
let ed: GeneratedKey;
let records: Record<string, string>;

before(() => {
  rsa = dkimKeygen({ domain: 'example.com', selector: 'pw-rsa', algorithm: 'rsa' });
  ed = dkimKeygen({ domain: 'example.com', selector: 'pw-ed', algorithm: 'ed25519' });
  records = { [rsa.dnsName]: rsa.txt, [ed.dnsName]: ed.txt };
});

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

const MESSAGE = crlf([
  'Received: from client (client [192.0.2.1]) by msa.example.net with ESMTPSA id 4Xyz',
  'From: "Doe, Alice" <alice@example.com>',
  'To: Bob <bob@example.org>, carol@example.org',
  'Subject: quarterly   report',
  '\tcontinued on a folded line',
  'Date: Thu, 01 Jan 2026 10:00:00 +0000',
  'Message-ID: <1234@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'X-Unsigned: not in the list',
  '',
  'Hello Bob,  ',
  '',
  'numbers\tin\t tabs   ',
  '-- ',
  'Alice',
  '',
]);

function tag(field: string, name: string): string | undefined {
  const flat = field.replace(/\r\n[ \t]/g, ' ');
  return flat.match(new RegExp(`[;:]\\s*${name}=([^;]*)`))?.[1].replace(/\s+/g, '');
}

async function verifyBoth(msg: Buffer): Promise<{ py: Array<boolean | string>; ma: string[] }> {
  const [py, ma] = await Promise.all([dkimpyVerify(msg, records), mailauthVerify(msg, records)]);
  return { py, ma };
}

const signed = (field: string, msg: Buffer): Buffer => Buffer.concat([Buffer.from(field, 'latin1'), msg]);

for (const alg of ['rsa-sha256', 'ed25519-sha256'] as const) {
  test(`${alg}: both verifiers pass, and fail after tampering`, { skip }, async () => {
    const key = alg === 'rsa-sha256' ? rsa.key : ed.key;
    const signer = new DkimSigner({ keys: [key] });
    const field = await signer.sign(MESSAGE, 'example.com');
    assert.match(field, /^DKIM-Signature: [^\r\n]*\r\n( [^\r\n]*\r\n)*$/, 'one folded field, CRLF-terminated');
    assert.equal(tag(field, 'a'), alg);
    assert.equal(tag(field, 'c'), 'relaxed/relaxed');
    assert.equal(tag(field, 'd'), 'example.com');
    assert.equal(tag(field, 's'), key.selector);
    // From oversigned; Received and unknown fields not signed.
    assert.equal(tag(field, 'h'), 'From:From:To:Subject:Date:Message-ID:MIME-Version:Content-Type');
    for (const line of field.split('\r\n')) assert.ok(line.length <= 78, `line too long: ${line}`);

    const good = signed(field, MESSAGE);
    assert.deepEqual(await verifyBoth(good), { py: [true], ma: ['pass'] });

    const badSubject = Buffer.from(good.toString('latin1').replace('quarterly', 'quarterlY'), 'latin1');
    const badBody = Buffer.from(good.toString('latin1').replace('Hello Bob', 'Hello Eve'), 'latin1');
    const extraFrom = Buffer.from(good.toString('latin1').replace('Received:', 'From: mallory@evil.example\r\nReceived:'), 'latin1');
    for (const [what, msg] of [['signed header', badSubject], ['body', badBody], ['added From (oversigned)', extraFrom]] as const) {
      const r = await verifyBoth(msg);
      // dkimpy answers false, or raises (its text says why); either is a failure
      assert.notEqual(r.py[0], true, `dkimpy must fail after tampering with the ${what}`);
      if (what === 'body') assert.match(String(r.py[0]), /body hash mismatch/);
      assert.notEqual(r.ma[0], 'pass', `mailauth must fail after tampering with the ${what}`);
    }

    // The oversigned From is what catches the added one: without it mailauth passes it
    // (dkimpy defends itself by counting one more From than h= lists).
    const plain = await new DkimSigner({ keys: [key], oversign: [] }).sign(MESSAGE);
    assert.equal(tag(plain, 'h'), 'From:To:Subject:Date:Message-ID:MIME-Version:Content-Type');
    const addedToPlain = Buffer.from(signed(plain, MESSAGE).toString('latin1').replace('Received:', 'From: mallory@evil.example\r\nReceived:'), 'latin1');
    assert.deepEqual(await mailauthVerify(addedToPlain, records), ['pass']);

    // Relaxed canonicalisation: refolding and whitespace changes on the way still verify.
    const reflowed = Buffer.from(good.toString('latin1')
      .replace('Subject: quarterly   report', 'Subject:\tquarterly report ')
      .replace('Hello Bob,  ', 'Hello Bob,')
      .replace('Alice\r\n', 'Alice\r\n\r\n\r\n'), 'latin1');
    assert.deepEqual(await verifyBoth(reflowed), { py: [true], ma: ['pass'] });
  });
}

test('rsa and ed25519 keys of one domain: two fields, each verifies', { skip }, async () => {
  const signer = new DkimSigner({ keys: [rsa.key, ed.key] });
  const field = await signer.sign(MESSAGE);
  assert.equal(field.match(/^DKIM-Signature:/gm)?.length, 2);
  assert.deepEqual(await verifyBoth(signed(field, MESSAGE)), { py: [true, true], ma: ['pass', 'pass'] });
});

test('a 5 MB body is streamed in chunks and verifies', { skip }, async () => {
  const signer = new DkimSigner({ keys: [rsa.key], clock: new ManualClock(Date.now()) });
  const head = crlf(['From: alice@example.com', 'To: bob@example.org', 'Subject: big', '', '']);
  const lines: string[] = [];
  for (let i = 0; lines.join('').length < 64 * 1024; i++) lines.push(`line ${i}\t with  odd   spacing ${'x'.repeat(i % 70)} ${i % 3 ? ' ' : ''}\r\n`);
  const block = Buffer.from(lines.join(''), 'latin1');
  const count = Math.ceil((5 * 1024 * 1024) / block.length);
  const whole = Buffer.concat([head, ...Array(count).fill(block)]);
  assert.ok(whole.length >= 5 * 1024 * 1024);
  let chunks = 0;
  // Odd chunk sizes so that CRLFs, runs of spaces and the header end straddle chunk edges.
  async function* source(): AsyncGenerator<Buffer> {
    for (let off = 0; off < whole.length; off += 65_521) { chunks++; yield whole.subarray(off, off + 65_521); }
  }
  const t0 = performance.now();
  const field = await signer.sign(Readable.from(source()));
  const ms = performance.now() - t0;
  assert.ok(chunks > 80, 'the signer read a stream, chunk by chunk');
  assert.ok(ms < 5000, `signing 5 MB took ${ms.toFixed(0)} ms`);
  assert.equal(field, await signer.sign(whole), 'same field from a Buffer and from a stream');
  assert.deepEqual(await verifyBoth(signed(field, whole)), { py: [true], ma: ['pass'] });
});

test('bodies of CRLF-only lines, empty bodies and header-only messages verify', { skip }, async () => {
  const signer = new DkimSigner({ keys: [rsa.key, ed.key] });
  const bodies = ['\r\n', '\r\n\r\n\r\n\r\n', 'a\r\n\r\n\r\nb\r\n\r\n\r\n', '', ' \r\n\t\r\n', 'no final line break'];
  await Promise.all(bodies.map(async (body) => {
    const msg = Buffer.from(`From: alice@example.com\r\nSubject: x\r\n\r\n${body}`, 'latin1');
    const field = await signer.sign(msg);
    assert.deepEqual(await verifyBoth(signed(field, msg)), { py: [true, true], ma: ['pass', 'pass'] }, JSON.stringify(body));
  }));
  // Relaxed: an empty body and a body of blank lines hash alike (RFC 6376 §3.4.4).
  const clock = new ManualClock();
  const s2 = new DkimSigner({ keys: [rsa.key], clock });
  const a = await s2.sign(Buffer.from('From: a@example.com\r\n\r\n'));
  const b = await s2.sign(Buffer.from('From: a@example.com\r\n\r\n\r\n\r\n\r\n'));
  assert.equal(tag(a, 'bh'), tag(b, 'bh'));
  const headerOnly = Buffer.from('From: alice@example.com\r\nSubject: no body\r\n');
  assert.deepEqual(await verifyBoth(signed(await signer.sign(headerOnly), headerOnly)), { py: [true, true], ma: ['pass', 'pass'] });
});

test('header names in any case, repeated fields, whitespace before the colon', { skip }, async () => {
  const signer = new DkimSigner({ keys: [rsa.key] });
  const msg = crlf([
    'fROM: alice@EXAMPLE.com', 'TO: bob@example.org', 'to: dave@example.org', 'sUbJeCt:Mixed Case',
    'message-id: <x@example.com>', 'DATE: Thu, 01 Jan 2026 10:00:00 +0000', '', 'body', '']);
  const field = await signer.sign(msg);
  assert.equal(tag(field, 'h'), 'From:From:To:To:Subject:Date:Message-ID');
  assert.deepEqual(await verifyBoth(signed(field, msg)), { py: [true], ma: ['pass'] });
  // RFC 5322 §4.5 obsolete "Name :" form: relaxed canonicalisation drops the space.
  // dkimpy refuses to parse such a header at all, so only mailauth judges it.
  const obs = crlf(['From : alice@example.com', 'Subject\t: obsolete', '', 'body', '']);
  const obsField = await signer.sign(obs);
  assert.equal(tag(obsField, 'h'), 'From:From:Subject');
  assert.deepEqual(await mailauthVerify(signed(obsField, obs), records), ['pass']);
});

test('chunking does not change the signature (blank line split across chunks)', async () => {
  const clock = new ManualClock();
  const signer = new DkimSigner({ keys: [rsa.key, ed.key], clock });
  const whole = await signer.sign(MESSAGE);
  for (const size of [1, 2, 3, 7]) {
    const parts: Buffer[] = [];
    for (let i = 0; i < MESSAGE.length; i += size) parts.push(MESSAGE.subarray(i, i + size));
    assert.equal(await signer.sign(Readable.from(parts)), whole, `chunk size ${size}`);
  }
  assert.equal(tag(whole, 't'), String(Math.floor(clock.now() / 1000)), 't= comes from the clock');
});

test('not ours: no key, a foreign or ambiguous From, an expectation that disagrees', async () => {
  const logger = new MemoryLogger();
  const signer = new DkimSigner({ keys: [rsa.key], logger });
  const msg = (from: string): Buffer => Buffer.from(`${from}\r\nSubject: x\r\n\r\nbody\r\n`);
  assert.equal(await signer.sign(msg('From: someone@other.example')), '');
  assert.equal(await signer.sign(msg('From: someone@sub.example.com')), '', 'no subdomains unless the key allows them');
  assert.equal(await signer.sign(msg('From: a@example.com\r\nFrom: b@example.com')), '', 'two From fields');
  assert.equal(await signer.sign(msg('From: a@example.com, b@other.example')), '', 'authors in two domains');
  assert.equal(await signer.sign(msg('Subject: no from')), '');
  assert.equal(await signer.sign(msg('From: a@example.com'), 'other.example'), '');
  assert.notEqual(await signer.sign(msg('From: a@example.com, b@EXAMPLE.com'), 'Example.COM'), '');
  assert.ok(logger.records.some((r) => r.level === 'warn' && /two|single|differs/.test(r.msg ?? '')));
  assert.ok(!JSON.stringify(logger.records).includes('PRIVATE KEY'));
});

test('a parent-domain key with subdomains signs for subdomains with d= the parent', { skip }, async () => {
  const signer = new DkimSigner({ keys: [{ ...rsa.key, subdomains: true }] });
  assert.equal(signer.signingDomainFor('bob@mail.Sub.example.com')?.domain, 'example.com');
  assert.equal(signer.signingDomainFor('bob@example.community'), null);
  const msg = Buffer.from('From: bob@mail.sub.example.com\r\n\r\nhi\r\n');
  const field = await signer.sign(msg);
  assert.equal(tag(field, 'd'), 'example.com');
  assert.deepEqual(await verifyBoth(signed(field, msg)), { py: [true], ma: ['pass'] });
});

test('a header section beyond the limit is not signed and the stream is released', async () => {
  const signer = new DkimSigner({ keys: [rsa.key], maxHeaderBytes: 1000 });
  let pulled = 0;
  async function* endlessHeader(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 10_000; i++) { pulled++; yield Buffer.from(`X-Filler-${i}: ${'y'.repeat(50)}\r\n`); }
  }
  const src = Readable.from(endlessHeader());
  assert.equal(await signer.sign(src), '');
  assert.ok(pulled < 100, `read ${pulled} chunks after the limit`);
  assert.ok(src.destroyed);
});

test('bad keys are refused at construction, naming the key', () => {
  const bad = (k: object, re: RegExp): void => assert.throws(() => new DkimSigner({ keys: [{ ...rsa.key, ...k }] }), re);
  bad({ algorithm: 'ed25519-sha256' }, /pw-rsa\._domainkey\.example\.com: key is rsa/);
  bad({ privateKeyPem: 'nope' }, /not a readable private key/);
  bad({ domain: 'localhost' }, /fully qualified/);
  bad({ selector: 'bad selector' }, /selector/);
  bad({ algorithm: 'rsa-sha1' }, /algorithm/);
  assert.throws(() => new DkimSigner({ keys: [rsa.key, rsa.key] }), /configured twice/);
  try {
    new DkimSigner({ keys: [{ ...rsa.key, privateKeyPem: 'nope' }] });
  } catch (e) {
    assert.ok(!String(e).includes('BEGIN'));
  }
});
