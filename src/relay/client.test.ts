// The relay's SMTP client against scripted next hops: what it sends, in which
// writes (RFC 2920 pipelining only when offered), and which reply each
// recipient ends up with when the hop refuses, breaks or lies.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { Envelope } from '../spool/index.ts';
import { connectClient } from './client.ts';
import type { Client } from './client.ts';

const T = { connect: 2000, greeting: 2000, socket: 3000 };

function envelope(rcpts: string[], extra: Partial<Envelope> = {}): Envelope {
  return {
    id: 'T1', mailFrom: { address: 'alice@example.org' }, receivedAt: 0, attributes: {}, attempts: 0,
    recipients: rcpts.map((address) => ({ address, state: 'pending' as const })), ...extra,
  };
}

interface Hop {
  port: number;
  /** Every data chunk the hop read, as it arrived (one entry per read). */
  reads: string[];
  /** Command lines, in order. */
  lines: string[];
  /** Message bodies as received (still dot-stuffed), without the final ".\r\n". */
  bodies: string[];
  /** A line arrived while an earlier one was still unanswered, on a hop without PIPELINING. */
  ranAhead: boolean;
}

/**
 * A next hop answering one line at a time through `answer` (undefined: the
 * default reply). It replies to each line before reading the next, as a hop
 * without PIPELINING would, and notes a client that sends ahead.
 */
async function hop(t: TestContext, opts: { ext?: string[]; answer?: (line: string, h: Hop, sock: Socket) => string | undefined | null; greeting?: string } = {}): Promise<Hop> {
  const h: Hop = { port: 0, reads: [], lines: [], bodies: [], ranAhead: false };
  const ext = opts.ext ?? ['PIPELINING', 'SIZE 100000', 'DSN', '8BITMIME'];
  const open = new Set<Socket>();
  const server: Server = createServer((sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    let data: string | null = null;
    sock.setEncoding('latin1');
    sock.write(`${opts.greeting ?? '220 hop.test ESMTP'}\r\n`);
    sock.on('data', (d: string) => {
      h.reads.push(d);
      buf += d;
      for (;;) {
        if (data !== null) {
          const end = buf.indexOf('\r\n.\r\n');
          const atStart = buf.startsWith('.\r\n') && data === '';
          if (end < 0 && !atStart) return;
          data += atStart ? '' : buf.slice(0, end + 2);
          buf = buf.slice(atStart ? 3 : end + 5);
          h.bodies.push(data);
          data = null;
          sock.write(`${opts.answer?.('.', h, sock) ?? '250 2.0.0 queued as Q1'}\r\n`);
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (buf.length && !ext.includes('PIPELINING') && !line.startsWith('DATA')) h.ranAhead = true;
        h.lines.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        const custom = opts.answer?.(line, h, sock);
        if (custom === null) return; // the script took over the socket
        let r = custom;
        if (r === undefined) {
          if (verb === 'EHLO') r = ['250-hop.test', ...ext.map((e, i) => `250${i === ext.length - 1 ? ' ' : '-'}${e}`)].join('\r\n');
          else if (verb === 'DATA') r = '354 go ahead';
          else if (verb === 'QUIT') r = '221 2.0.0 bye';
          else r = '250 2.0.0 ok';
        }
        if (r.startsWith('354')) data = '';
        sock.write(`${r}\r\n`);
        if (verb === 'QUIT') sock.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  h.port = (server.address() as AddressInfo).port;
  t.after(() => new Promise<void>((r) => { for (const s of open) s.destroy(); server.close(() => r()); }));
  return h;
}

const body = (s: string): Readable => Readable.from([Buffer.from(s, 'latin1')]);
async function client(t: TestContext, h: Hop, auth?: { user: string; pass: string }): Promise<Client> {
  const c = await connectClient({ host: '127.0.0.1', port: h.port, tls: 'none', auth }, 'relay.test', T);
  t.after(() => c.quit());
  return c;
}

test('PIPELINING offered: MAIL, every RCPT and DATA leave in one write; body and dot in one more', async (t) => {
  const h = await hop(t);
  const c = await client(t, h);
  const r = await c.deliver(envelope(['b@example.net', 'c@example.net']), [0, 1], 20, body('Subject: x\r\n\r\nhi\r\n'));
  assert.deepEqual([...r.replies.values()], ['250 2.0.0 queued as Q1', '250 2.0.0 queued as Q1']);
  assert.equal(r.reusable, true);
  const envelopeRead = h.reads.find((d) => d.startsWith('MAIL FROM:'));
  assert.equal(envelopeRead, 'MAIL FROM:<alice@example.org> SIZE=20\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n');
  assert.ok(h.reads.includes('Subject: x\r\n\r\nhi\r\n.\r\n'), `body and terminator in one segment: ${JSON.stringify(h.reads)}`);
});

test('no PIPELINING: one command at a time, never ahead of the reply', async (t) => {
  const h = await hop(t, { ext: ['SIZE 100000'] });
  const c = await client(t, h);
  const r = await c.deliver(envelope(['b@example.net', 'c@example.net']), [0, 1], 10, body('hi\r\n'));
  assert.equal(r.replies.get(1), '250 2.0.0 queued as Q1');
  assert.deepEqual(h.lines.slice(1), ['MAIL FROM:<alice@example.org> SIZE=10', 'RCPT TO:<b@example.net>', 'RCPT TO:<c@example.net>', 'DATA']);
  assert.equal(h.ranAhead, false);
});

test('MAIL refused: every recipient gets that reply, RSET, and the connection carries the next message', async (t) => {
  let refuse = true;
  const h = await hop(t, { answer: (l) => (l.startsWith('MAIL') && refuse ? '451 4.3.2 try later' : l.startsWith('DATA') && refuse ? '503 5.5.1 no valid recipients' : undefined) });
  const c = await client(t, h);
  const r1 = await c.deliver(envelope(['b@example.net', 'c@example.net']), [0, 1], 10, body('one\r\n'));
  assert.deepEqual([...r1.replies.entries()], [[0, '451 4.3.2 try later'], [1, '451 4.3.2 try later']]);
  assert.equal(r1.local.size, 0, 'the replies came from the hop');
  assert.equal(r1.reusable, true);
  assert.ok(h.lines.includes('RSET'));
  refuse = false;
  const r2 = await c.deliver(envelope(['b@example.net']), [0], 10, body('two\r\n'));
  assert.equal(r2.replies.get(0), '250 2.0.0 queued as Q1');
  assert.deepEqual(h.bodies, ['two\r\n']);
});

test('per recipient: refused at RCPT keeps its own reply; the others get the reply to the dot', async (t) => {
  const h = await hop(t, { answer: (l) => (l.startsWith('RCPT TO:<x@') ? '550 5.1.1 <x@example.net>: unknown' : l === '.' ? '250-2.0.0 first line\r\n250 2.0.0 queued as Q9' : undefined) });
  const c = await client(t, h);
  const r = await c.deliver(envelope(['b@example.net', 'x@example.net', 'c@example.net']), [0, 1, 2], 10, body('hi\r\n'));
  assert.deepEqual([...r.replies.entries()].sort(), [[0, '250-2.0.0 first line 2.0.0 queued as Q9'], [1, '550 5.1.1 <x@example.net>: unknown'], [2, '250-2.0.0 first line 2.0.0 queued as Q9']]);
});

test('every recipient refused: no body is sent, DATA is answered and the session reset', async (t) => {
  const h = await hop(t, { answer: (l) => (l.startsWith('RCPT') ? '550 5.1.1 unknown' : l.startsWith('DATA') ? '554 5.5.1 no valid recipients' : undefined) });
  const c = await client(t, h);
  const r = await c.deliver(envelope(['b@example.net', 'c@example.net']), [0, 1], 10, body('hi\r\n'));
  assert.deepEqual([...r.replies.values()], ['550 5.1.1 unknown', '550 5.1.1 unknown']);
  assert.equal(h.bodies.length, 0);
  assert.ok(h.lines.includes('RSET'));
  assert.equal(r.reusable, true);
});

test('the hop drops the connection during DATA: accepted recipients get a local 4.4.2, refused ones keep theirs', async (t) => {
  const h = await hop(t, {
    answer: (l, _h, sock) => {
      if (l.startsWith('RCPT TO:<x@')) return '550 5.1.1 unknown';
      if (l.startsWith('DATA')) { sock.write('354 go\r\n'); setTimeout(() => sock.destroy(), 20); return null; }
      return undefined;
    },
  });
  const c = await client(t, h);
  async function* slow() { yield Buffer.from('a\r\n'); await new Promise((r) => setTimeout(r, 200)); yield Buffer.from('b\r\n'); }
  const r = await c.deliver(envelope(['b@example.net', 'x@example.net']), [0, 1], 10, Readable.from(slow()));
  assert.match(r.replies.get(0)!, /^451 4\.4\.2 Connection failed: /);
  assert.equal(r.replies.get(1), '550 5.1.1 unknown');
  assert.deepEqual([...r.local], [0]);
  assert.equal(r.reusable, false);
  assert.equal(c.alive, false);
});

test('SIZE: a message over the size the hop announced is refused here, before anything is sent', async (t) => {
  const h = await hop(t, { ext: ['PIPELINING', 'SIZE 1000'] });
  const c = await client(t, h);
  const r = await c.deliver(envelope(['b@example.net']), [0], 5000, body('x'));
  assert.match(r.replies.get(0)!, /^552 5\.3\.4 /);
  assert.ok(r.local.has(0));
  assert.equal(h.lines.some((l) => l.startsWith('MAIL')), false);
  assert.equal(r.reusable, true);
});

// AUTH=<account> to a hop we authenticated to (over verified TLS only) is in auth-tls.test.ts.
test('DSN parameters per recipient; no AUTH= to a hop we did not authenticate to', async (t) => {
  const h = await hop(t, { ext: ['PIPELINING', 'DSN', 'AUTH LOGIN'] });
  const c = await client(t, h);
  const env = envelope(['b@example.net', 'c@example.net'], { account: 'al+ice@example.org', mailFrom: { address: 'alice@example.org', ret: 'HDRS', envid: 'E 1' } });
  env.recipients[0].notify = ['SUCCESS', 'FAILURE'];
  env.recipients[1].orcpt = 'rfc822;c@example.net';
  await c.deliver(env, [0, 1], 10, body('hi\r\n'));
  assert.ok(h.lines.includes('MAIL FROM:<alice@example.org> RET=HDRS ENVID=E+201'), h.lines.join('\n'));
  assert.ok(h.lines.includes('RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE'));
  assert.ok(h.lines.includes('RCPT TO:<c@example.net> ORCPT=rfc822;c@example.net'));
});

test('ENVID and ORCPT go back as the octets the submitter sent: one char per octet from decodeXtext, not UTF-8-encoded again', async (t) => {
  const h = await hop(t, { ext: ['PIPELINING', 'DSN'] });
  const c = await client(t, h);
  // ENVID=caf+C3+A9 and ORCPT=rfc822;j+C3+B6rg@example.net as smtp's decodeXtext hands them over.
  const env = envelope(['b@example.net'], { mailFrom: { address: 'alice@example.org', envid: 'caf\xc3\xa9' } });
  env.recipients[0].orcpt = 'rfc822;j\xc3\xb6rg@example.net';
  await c.deliver(env, [0], 10, body('hi\r\n'));
  assert.ok(h.lines.includes('MAIL FROM:<alice@example.org> ENVID=caf+C3+A9'), h.lines.join('\n'));
  assert.ok(h.lines.includes('RCPT TO:<b@example.net> ORCPT=rfc822;j+C3+B6rg@example.net'), h.lines.join('\n'));
});

test('set-up failures: a refusing greeting, credentials withheld from a plain-text hop, a hop without EHLO gets HELO', async (t) => {
  const refusing = await hop(t, { greeting: '554 5.3.2 go away' });
  await assert.rejects(connectClient({ host: '127.0.0.1', port: refusing.port, tls: 'none' }, 'relay.test', T), /greeting: 554 5\.3\.2 go away/);
  const plain = await hop(t, { ext: ['AUTH PLAIN'] });
  await assert.rejects(connectClient({ host: '127.0.0.1', port: plain.port, tls: 'none', auth: { user: 'u', pass: 'p' } }, 'relay.test', T), /credentials not sent: the session is not encrypted/);
  assert.equal(plain.lines.some((l) => l.startsWith('AUTH')), false);
  const old = await hop(t, { ext: [], answer: (l) => (l.startsWith('EHLO') ? '502 5.5.2 what?' : undefined) });
  const c = await client(t, old);
  const r = await c.deliver(envelope(['b@example.net']), [0], 10, body('hi\r\n'));
  assert.equal(r.replies.get(0), '250 2.0.0 queued as Q1');
  assert.ok(old.lines.includes('HELO relay.test'));
  assert.ok(old.lines.includes('MAIL FROM:<alice@example.org>'), 'no ESMTP parameters to a HELO hop');
});

test('a hop that never answers: the socket timeout ends the attempt with a local 4.4.2', async (t) => {
  const h = await hop(t, { answer: (l) => (l.startsWith('MAIL') ? null : undefined) });
  const c = await connectClient({ host: '127.0.0.1', port: h.port, tls: 'none' }, 'relay.test', { ...T, socket: 300 });
  t.after(() => c.quit());
  const r = await c.deliver(envelope(['b@example.net']), [0], 10, body('hi\r\n'));
  assert.match(r.replies.get(0)!, /^451 4\.4\.2 Connection failed: timed out/);
  assert.equal(r.reusable, false);
});

test('an idle connection that got an unsolicited 421 is no longer offered for the next message', async (t) => {
  const h = await hop(t, { answer: (l, _h, sock) => { if (l === '.') setTimeout(() => sock.write('421 4.4.2 idle timeout\r\n'), 30); return undefined; } });
  const c = await client(t, h);
  const r = await c.deliver(envelope(['b@example.net']), [0], 10, body('hi\r\n'));
  assert.equal(r.replies.get(0), '250 2.0.0 queued as Q1');
  assert.equal(c.alive, true);
  await new Promise((res) => setTimeout(res, 150));
  assert.equal(c.alive, false, 'the hop said it is closing, even though the socket is still open');
});
