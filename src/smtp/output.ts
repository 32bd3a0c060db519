// A session's replies: gathered while its input is stepped, so that a pipelined
// group leaves in one write (RFC 2920 §3.1), and held back when the client
// does not read them (RFC 2920 §3: it must keep reading).
import { formatReply } from '../core/index.ts';
import type { Reply } from '../core/index.ts';
import type { Session } from './session.ts';

/** Replies gathered within one pass are handed to the socket once they reach this many octets. */
const OUT_FLUSH = 16 * 1024;
const BREAKS = /[\r\n]/;
const BREAKS_G = /[\r\n]/g;

export class ReplyOutput {
  private readonly s: Session;
  private out: string[] = [];
  private outBytes = 0;
  private waiting = false;

  constructor(s: Session) {
    this.s = s;
  }

  /** The client is not reading: replies beyond opts.maxReplyBacklog wait in the socket. */
  get blocked(): boolean {
    return this.waiting;
  }

  send(r: Reply): void {
    if (this.s.closed) return;
    // A handler's text must not be able to break the reply framing.
    const unsafe = typeof r.text === 'string' ? BREAKS.test(r.text) : r.text.some((t) => BREAKS.test(t));
    const safe = unsafe ? { ...r, text: typeof r.text === 'string' ? r.text.replace(BREAKS_G, ' ') : r.text.map((t) => t.replace(BREAKS_G, ' ')) } : r;
    const text = formatReply(safe);
    this.out.push(text);
    this.outBytes += text.length;
  }

  flush(): void {
    const socket = this.s.socket;
    if (this.out.length === 0 || socket.destroyed) return;
    const data = this.out.length === 1 ? this.out[0] : this.out.join('');
    this.out = [];
    this.outBytes = 0;
    socket.write(data);
    this.s.timers.touch();
  }

  /** Within a pass: a long pipelined group is not held back to its end. */
  flushIfLarge(): void {
    if (this.outBytes >= OUT_FLUSH) this.flush();
  }

  /** More is unsent than the client may leave unread. */
  get backlogged(): boolean {
    const socket = this.s.socket;
    // Below the stream's high-water mark a write never asks for 'drain': that is the floor.
    return socket.writableLength > Math.max(this.s.opts.maxReplyBacklog, socket.writableHighWaterMark);
  }

  /**
   * Stops reading and processing the client's input until the socket drains; the
   * idle timer, not refreshed meanwhile, ends a session that never does. False when
   * the session ended instead.
   */
  async drain(): Promise<boolean> {
    const socket = this.s.socket;
    this.waiting = true;
    this.s.updateFlow();
    const drained = await new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        socket.removeListener('drain', onDrain);
        socket.removeListener('close', onClose);
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
    this.waiting = false;
    return drained && !this.s.closed;
  }
}
