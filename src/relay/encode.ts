// What the relay puts on the wire after DATA: CRLF line ends only (RFC 5321
// §2.3.8: a bare CR or LF may only travel as a line end), every line that
// starts with "." doubled (§4.5.2), and the terminator. The MSA canonicalises
// already; this is the relay making sure it never emits anything else,
// whatever the queue file holds (F3, F4). Canonical text, the usual case,
// passes through as the same buffers: the scans are Buffer.indexOf, in
// native code, never a loop over bytes in JavaScript.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const LF_ONLY = Buffer.from([LF]);
const CRLF = Buffer.from([CR, LF]);
const DOT_ONLY = Buffer.from([DOT]);
const LF_DOT = Buffer.from([LF, DOT]);
const END_AT_LINE_START = Buffer.from('.\r\n', 'latin1');
const END_MID_LINE = Buffer.from('\r\n.\r\n', 'latin1');

/** Turns every bare CR and bare LF into CRLF, across chunk boundaries. */
export class LineEnds {
  /** The previous chunk ended in CR: whether it was a line end depends on the next chunk's first byte. */
  private cr = false;

  /** The canonical form of this chunk, as pieces in order (usually just the chunk itself). */
  parts(chunk: Buffer): Buffer[] {
    const parts: Buffer[] = [];
    let start = 0;
    let i = 0;
    if (this.cr) {
      this.cr = false;
      if (chunk[0] === LF) i = 1; // the CRLF straddled the chunks
      else parts.push(LF_ONLY); // a bare CR: complete it
    }
    let nextCr = chunk.indexOf(CR, i);
    let nextLf = chunk.indexOf(LF, i);
    while (nextCr >= 0 || nextLf >= 0) {
      if (nextCr >= 0 && (nextLf < 0 || nextCr < nextLf)) {
        const p = nextCr;
        if (p + 1 === chunk.length) { this.cr = true; break; }
        if (chunk[p + 1] === LF) {
          nextLf = chunk.indexOf(LF, p + 2);
        } else {
          parts.push(chunk.subarray(start, p + 1), LF_ONLY);
          start = p + 1;
        }
        nextCr = chunk.indexOf(CR, p + 1);
      } else {
        const p = nextLf; // not preceded by CR: a bare LF
        parts.push(chunk.subarray(start, p), CRLF);
        start = p + 1;
        nextLf = chunk.indexOf(LF, p + 1);
      }
    }
    if (!parts.length) return [chunk];
    if (start < chunk.length) parts.push(chunk.subarray(start));
    return parts;
  }

  /** What the end of the input still owes: the LF of a CR that ended the last chunk. */
  flush(): Buffer | undefined {
    if (!this.cr) return undefined;
    this.cr = false;
    return LF_ONLY;
  }
}

/** LineEnds as a stream (the original message inside a delivery status notification). */
export class CanonicalLines extends Transform {
  private readonly ends = new LineEnds();
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const parts = this.ends.parts(chunk);
    cb(null, parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }
  override _flush(cb: TransformCallback): void {
    cb(null, this.ends.flush());
  }
}

/** The DATA payload: canonical line ends, dot-stuffed, then the terminator. */
export class DataEncoder {
  /** Null when the producer vouched for canonical line ends (Envelope.canonical): one scan less per chunk. */
  private readonly ends: LineEnds | null;

  constructor(canonical = false) {
    this.ends = canonical ? null : new LineEnds();
  }

  /** The next byte out begins a line (true at the start: an empty message is just "."). */
  private lineStart = true;

  /** Appends this chunk's encoded pieces to `out`. */
  push(chunk: Buffer, out: Buffer[]): void {
    if (!chunk.length) return;
    if (!this.ends) { this.stuff(chunk, out); return; }
    for (const part of this.ends.parts(chunk)) this.stuff(part, out);
  }

  /** Appends what ends the data: a pending line end, then "." on a line of its own. */
  end(out: Buffer[]): void {
    const lf = this.ends?.flush();
    if (lf) this.stuff(lf, out);
    out.push(this.lineStart ? END_AT_LINE_START : END_MID_LINE);
  }

  private stuff(part: Buffer, out: Buffer[]): void {
    if (!part.length) return;
    if (this.lineStart && part[0] === DOT) out.push(DOT_ONLY);
    let start = 0;
    for (let i = part.indexOf(LF_DOT); i >= 0; i = part.indexOf(LF_DOT, i + 1)) {
      out.push(part.subarray(start, i + 1), DOT_ONLY); // the line's own dot follows in the next piece
      start = i + 1;
    }
    out.push(start ? part.subarray(start) : part);
    this.lineStart = part[part.length - 1] === LF;
  }
}
