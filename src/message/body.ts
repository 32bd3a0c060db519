// Streams the body: canonical CRLF (a stray CR or LF becomes a space, as
// Postfix cleanup_replace_stray_cr_lf does; F3), the 998-octet line limit
// (RFC 5322 §2.1.1; F7) and NUL (F6). The hot path is native indexOf scans and
// zero-copy subarrays; a chunk is copied only when a byte in it must change.
import type { Reply } from '../core/index.ts';
import { REJECTS, type Repairs } from './header.ts';

const CR = 0x0d, LF = 0x0a, SP = 0x20;
const CRLF = Buffer.from('\r\n');
const SPACE = Buffer.from(' ');

export class BodyScanner {
  private lineLen = 0;
  private pendingCR = false;
  private readonly maxLine: number;
  private readonly out: (b: Buffer) => void;
  private readonly repairs: Repairs;
  reject: Reply | null = null;

  constructor(maxLine: number, out: (b: Buffer) => void, repairs: Repairs) {
    this.maxLine = maxLine;
    this.out = out;
    this.repairs = repairs;
  }

  private fail(r: Reply): void {
    if (!this.reject) this.reject = r;
  }

  private grow(n: number): boolean {
    this.lineLen += n;
    if (this.lineLen > this.maxLine) { this.fail(REJECTS.bodyLine); return false; }
    return true;
  }

  write(chunk: Buffer): void {
    if (this.reject || chunk.length === 0) return;
    if (chunk.indexOf(0) !== -1) { this.fail(REJECTS.nul); return; }
    let buf = chunk;
    let copied = false;
    let strays = 0;
    let pos = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (buf[0] === LF) {
        this.out(CRLF);
        this.lineLen = 0;
        pos = 1;
      } else {
        strays++;
        this.out(SPACE);
        if (!this.grow(1)) return;
      }
    }
    const start = pos;
    const n = buf.length;
    // Replace every CR in [from, to) with a space; they are all stray.
    const blankCRs = (from: number, to: number): void => {
      let cr = buf.indexOf(CR, from);
      while (cr !== -1 && cr < to) {
        if (!copied) { buf = Buffer.from(buf); copied = true; }
        buf[cr] = SP;
        strays++;
        cr = buf.indexOf(CR, cr + 1);
      }
    };
    let end = n;
    while (pos < n) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        // A CR at the very end may be the first half of a CRLF split across chunks.
        end = buf[n - 1] === CR ? n - 1 : n;
        this.pendingCR = end === n - 1;
        blankCRs(pos, end);
        if (!this.grow(end - pos)) return;
        break;
      }
      if (lf > start && buf[lf - 1] === CR) {
        blankCRs(pos, lf - 1);
        if (!this.grow(lf - 1 - pos)) return;
        this.lineLen = 0;
      } else {
        blankCRs(pos, lf);
        if (!copied) { buf = Buffer.from(buf); copied = true; }
        buf[lf] = SP;
        strays++;
        if (!this.grow(lf + 1 - pos)) return;
      }
      pos = lf + 1;
    }
    if (strays) this.repairs.add('replaced stray CR/LF in body with space', strays);
    if (end > start) this.out(start === 0 && end === n ? buf : buf.subarray(start, end));
  }

  /** Completes a pending CR and an unterminated last line. */
  end(): void {
    if (this.reject) return;
    if (this.pendingCR) {
      this.pendingCR = false;
      this.repairs.add('replaced stray CR/LF in body with space');
      this.out(SPACE);
      if (!this.grow(1)) return;
    }
    if (this.lineLen > 0) {
      this.repairs.add('added CRLF after last body line');
      this.out(CRLF);
      this.lineLen = 0;
    }
  }
}
