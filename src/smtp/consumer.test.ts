// A handler that stops reading the body part-way (a failed disk write in the
// abuse mailbox: it broke out of for-await, which destroys the stream) while
// the session held the socket back for it: the session reads on, discards the
// rest, and answers the handler's verdict at the end of the data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPLIES, refuse } from '../core/index.ts';
import { RecordingHandler, code, startServer } from './testkit.ts';
import { RawClient } from '../../test/lib/smtpclient.ts';

test('a consumer that gives up on a backpressured body does not stall the session', async () => {
  const handler = new RecordingHandler();
  handler.onData = async (body) => {
    let n = 0;
    for await (const c of body as AsyncIterable<Buffer>) {
      n += c.length;
      await new Promise((r) => setTimeout(r, 5)); // slower than the client: the reader is held back
      if (n > 300_000) break;
    }
    return refuse(REPLIES.internal);
  };
  const h = await startServer({ maxMessageSize: 50_000_000 }, { handler });
  const c = await RawClient.connect(h.port);
  try {
    await c.read();
    for (const cmd of ['EHLO client.example', 'MAIL FROM:<a@example.org>', 'RCPT TO:<b@example.org>', 'DATA']) await c.cmd(cmd);
    c.write(Buffer.alloc(3_000_000, 'spam spam spam\r\n'));
    c.write('.\r\n');
    assert.equal(await c.reply(20_000), '451 4.3.0 Error: internal error\r\n');
    assert.equal(code(await c.send('MAIL FROM:<a@example.org>')), '250', 'in step for the next transaction');
  } finally {
    c.close();
    await h.stop();
  }
});
