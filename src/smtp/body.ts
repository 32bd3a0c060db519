// The message body as a stream: DATA end-of-data detection with dot-unstuffing
// (RFC 5321 §4.1.1.4, §4.5.2) and raw BDAT chunks (RFC 3030), both with the
// listener's bare-LF policy and the size limit applied.
//
// Only <CR><LF>.<CR><LF> ends DATA (REQUIREMENTS F1). The scanner keeps its
// state in a few flags instead of holding bytes back, so every input chunk is
// passed on as slices of itself: no copy, and memory is bounded by the stream's
// highWaterMark plus one socket chunk whatever the line length.
import { Readable } from 'node:stream';
import type { Reply } from '../core/index.ts';
import { BodyError } from './types.ts';
import type { BareLfPolicy } from './types.ts';
import { R } from './replies.ts';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const CR_ONLY = Buffer.from('\r');

// Scanner states for DATA.
const BOL = 0; // at the start of a line (after CRLF, or the first line)
const BOL_DOT = 1; // saw '.' at the start of a line; dropped unless it was the end marker
const BOL_DOT_CR = 2; // saw ".\r" at the start of a line; the CR is held back
const MID = 3; // inside a line

export class BodySink {
  readonly stream: Readable;
  /** Octets passed on so far (after unstuffing / normalising). */
  size = 0;
  /** Set when the engine itself rejected the content; the rest is discarded. */
  fault: Reply | null = null;
  sawBareLf = false;
  backpressured = false;
  private state = BOL;
  private prevCR = false;
  private readonly maxSize: number;
  private readonly bareLf: BareLfPolicy;
  private readonly onDrain: () => void;

  constructor(maxSize: number, bareLf: BareLfPolicy, onDrain: () => void) {
    this.maxSize = maxSize;
    this.bareLf = bareLf;
    this.onDrain = onDrain;
    this.stream = new Readable({
      highWaterMark: 64 * 1024,
      read: () => {
        if (this.backpressured) {
          this.backpressured = false;
          this.onDrain();
        }
      },
    });
    // The handler owns error handling; this only keeps an unobserved BodyError
    // from becoming an uncaught 'error' event.
    this.stream.on('error', () => {});
    // A consumer that gives up (destroys the stream, or breaks out of for-await) while the reader is held
    // back would never call read() again: let the session read on (it discards the rest) instead of stalling.
    this.stream.on('close', () => this.release());
  }

  /** True while pushed data still reaches a consumer. */
  get open(): boolean {
    return this.fault === null && !this.stream.destroyed;
  }

  private emit(b: Buffer): void {
    if (b.length === 0 || !this.open) return;
    this.size += b.length;
    if (this.size > this.maxSize) {
      this.fail(R.sizeExceeded);
      return;
    }
    if (!this.stream.push(b)) this.backpressured = true;
  }

  private onBareLf(): boolean {
    this.sawBareLf = true;
    if (this.bareLf === 'reject') {
      this.fail(R.bareLf);
      return false;
    }
    return true;
  }

  /** Rejects the content: the consumer sees a BodyError; later input is discarded. */
  fail(r: Reply): void {
    if (this.fault) return;
    this.fault = r;
    this.release();
    if (!this.stream.destroyed) this.stream.destroy(new BodyError(r));
  }

  /** Stops passing data on (consumer gone or transaction aborted) without blocking the reader. */
  abort(err?: Error): void {
    this.release();
    if (!this.stream.destroyed) this.stream.destroy(err);
  }

  private release(): void {
    if (this.backpressured) {
      this.backpressured = false;
      this.onDrain();
    }
  }

  finish(): void {
    if (this.open) this.stream.push(null);
  }

  /**
   * Feeds DATA content. Returns the index just past the end-of-data marker, or -1
   * when the whole buffer was consumed without reaching it.
   */
  feedDot(b: Buffer): number {
    const len = b.length;
    let i = 0;
    let seg = 0; // start of the slice to pass on verbatim
    while (true) {
      if (this.state === MID) {
        const j = b.indexOf(LF, i);
        if (j < 0) {
          if (len > i) this.prevCR = b[len - 1] === CR;
          this.emit(b.subarray(seg, len));
          return -1;
        }
        const crlf = j > i ? b[j - 1] === CR : this.prevCR;
        this.prevCR = false;
        if (crlf) {
          this.state = BOL;
        } else {
          // Bare LF: never a line end for end-of-data purposes, so no unstuffing after it.
          this.emit(b.subarray(seg, j));
          if (this.onBareLf()) this.emit(CRLF);
          seg = j + 1;
        }
        i = j + 1;
        continue;
      }
      if (i >= len) {
        this.emit(b.subarray(seg, len));
        return -1;
      }
      const c = b[i];
      if (this.state === BOL) {
        if (c === DOT) {
          this.emit(b.subarray(seg, i));
          i++;
          seg = i;
          this.state = BOL_DOT;
        } else {
          this.state = MID;
          this.prevCR = false;
        }
      } else if (this.state === BOL_DOT) {
        if (c === CR) {
          i++;
          seg = i;
          this.state = BOL_DOT_CR;
        } else {
          this.state = MID;
          this.prevCR = false;
        }
      } else {
        // BOL_DOT_CR
        if (c === LF) {
          this.state = BOL;
          return i + 1;
        }
        this.emit(CR_ONLY);
        this.state = MID;
        this.prevCR = true;
      }
    }
  }

  /** Feeds raw BDAT octets (no dot handling). */
  feedRaw(b: Buffer): void {
    const len = b.length;
    if (len === 0) return;
    let i = 0;
    let seg = 0;
    while (i < len) {
      const j = b.indexOf(LF, i);
      if (j < 0) break;
      const crlf = j > 0 ? b[j - 1] === CR : this.prevCR;
      if (!crlf) {
        this.emit(b.subarray(seg, j));
        if (this.onBareLf()) this.emit(CRLF);
        seg = j + 1;
      }
      i = j + 1;
    }
    this.prevCR = b[len - 1] === CR;
    this.emit(b.subarray(seg, len));
  }
}
