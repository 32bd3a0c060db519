// The message transform between the SMTP engine and the spool writer. The
// header section is buffered (capped at maxHeaderBytes) and repaired as a
// whole; the body streams through BodyScanner. A reject is recorded, not
// thrown: the transform keeps consuming input and stops producing output,
// and the caller aborts the spool file.
import { Transform, type TransformCallback } from 'node:stream';
import { systemClock, type Clock, type Reply } from '../core/index.ts';
import { BodyScanner } from './body.ts';
import { generatedField } from './generated.ts';
import { ADDRESS_CAPS, type OriginatorField } from './originators.ts';
import { classifyLine, fieldName, finishHeader, REJECTS, Repairs, type Field, type HeaderInfo } from './header.ts';

export type MalformedHeaderAction = 'fix_quietly' | 'add_header' | 'reject';

export interface FixerOptions {
  /** Our FQDN: right side of generated Message-IDs. */
  hostname: string;
  /** Postfix header_size_limit. */
  maxHeaderBytes?: number;
  /** Octets per line excluding CRLF (RFC 5322 §2.1.1). */
  maxLineLength?: number;
  /** What to do when the header section stops at a line that is not a field (J1). */
  malformedHeaderAction?: MalformedHeaderAction;
  addMessageId?: boolean;
  addDate?: boolean;
  /** To+Cc+Resent-To+Resent-Cc addresses before reject (J4, CVE-2006-1305). */
  maxHeaderAddresses?: number;
  /** Postfix hopcount_limit: more Received fields than this (ours included) is a loop, 554 5.4.6. */
  maxReceived?: number;
  /** Octets of one address field and address fields per message, checked before any is parsed. */
  maxAddressFieldBytes?: number;
  maxAddressFields?: number;
  clock?: Clock;
}

export interface MessageInput {
  /** The complete Received field value (see buildReceived); we prepend "Received: " and fold it. */
  received: string;
  queueId: string;
  /** SMTPUTF8 transaction: generated fields may carry UTF-8 (RFC 6532); otherwise ASCII only. */
  smtputf8?: boolean;
}

export interface FixResult {
  reject?: Reply;
  repairs: string[];
  /** Every From, Sender, Resent-From and Resent-Sender field, strictly read (empty after a reject). */
  originators: OriginatorField[];
  /** The Message-ID in the output ('' when absent and addMessageId is off). */
  messageId: string;
  /** The message arrived with a valid Message-ID / Date. */
  hadMessageId: boolean;
  hasDate: boolean;
  /** Octets of the header section as received (the quantity maxHeaderBytes caps). */
  headerBytes: number;
  /** Octets of body written. */
  bodyBytes: number;
  /** Octets written in total (what the spool holds). */
  size: number;
  subject?: string;
  toCount: number;
  ccCount: number;
}

const CR = 0x0d, LF = 0x0a;
type Phase = 'header' | 'body' | 'discard';

export class MessageFixer extends Transform {
  private readonly opts: Required<Omit<FixerOptions, 'clock'>> & { clock: Clock };
  private readonly input: MessageInput;
  private readonly receivedText: string;
  private readonly repairs = new Repairs();
  private readonly body: BodyScanner;
  private phase: Phase = 'header';
  private partial: Buffer[] = [];
  private partialLen = 0;
  private fields: Field[] = [];
  private headerBytes = 0;
  private bodyBytes = 0;
  private size = 0;
  private info: HeaderInfo | null = null;
  private rejected: Reply | null = null;
  private strayInHeader = 0;

  constructor(options: FixerOptions, input: MessageInput) {
    super();
    const o = options;
    this.opts = {
      hostname: o.hostname,
      maxHeaderBytes: o.maxHeaderBytes ?? 102400,
      maxLineLength: o.maxLineLength ?? 998,
      malformedHeaderAction: o.malformedHeaderAction ?? 'add_header',
      addMessageId: o.addMessageId ?? true,
      addDate: o.addDate ?? true,
      maxHeaderAddresses: o.maxHeaderAddresses ?? 1000,
      maxReceived: o.maxReceived ?? 50,
      maxAddressFieldBytes: o.maxAddressFieldBytes ?? ADDRESS_CAPS.maxFieldBytes,
      maxAddressFields: o.maxAddressFields ?? ADDRESS_CAPS.maxFields,
      clock: o.clock ?? systemClock,
    };
    this.input = input;
    // Octets (UTF-8 only in SMTPUTF8 mail), controls gone: see generated.ts.
    this.receivedText = generatedField('Received', input.received, !!input.smtputf8);
    this.body = new BodyScanner(this.opts.maxLineLength, (b) => {
      this.bodyBytes += b.length;
      this.emitOut(b);
    }, this.repairs);
  }

  get result(): FixResult {
    const i = this.info;
    const r: FixResult = {
      repairs: this.repairs.list(),
      originators: i?.originators ?? [],
      messageId: i?.messageId ?? '',
      hadMessageId: i?.hadMessageId ?? false,
      hasDate: i?.hasDate ?? false,
      headerBytes: this.headerBytes,
      bodyBytes: this.bodyBytes,
      size: this.size,
      toCount: i?.toCount ?? 0,
      ccCount: i?.ccCount ?? 0,
    };
    const reject = this.rejected ?? this.body.reject;
    if (reject) r.reject = reject;
    if (i?.subject !== undefined) r.subject = i.subject;
    return r;
  }

  private emitOut(b: Buffer): void {
    this.size += b.length;
    this.push(b);
  }

  private fail(r: Reply): void {
    if (this.rejected || this.body.reject) return;
    this.rejected = r;
    this.phase = 'discard';
    this.partial = [];
    this.partialLen = 0;
    this.fields = [];
    this.emit('reject', r);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.phase === 'header') this.headerChunk(chunk);
    else if (this.phase === 'body') this.bodyChunk(chunk);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.phase === 'header') {
      if (this.partialLen > 0) {
        this.repairs.add('added CRLF after last header line');
        const last = Buffer.concat(this.partial, this.partialLen);
        this.partial = [];
        this.partialLen = 0;
        this.headerLine(last, 0, null, 0);
      }
      if (this.phase === 'header') this.endHeader(false);
    }
    if (this.phase === 'body') {
      this.body.end();
      this.noteBodyReject();
    }
    cb();
  }

  private bodyChunk(chunk: Buffer): void {
    this.body.write(chunk);
    this.noteBodyReject();
  }

  private noteBodyReject(): void {
    if (this.body.reject && this.phase === 'body') {
      this.phase = 'discard';
      this.emit('reject', this.body.reject);
    }
  }

  private headerChunk(chunk: Buffer): void {
    let pos = 0; // start of the bytes not yet taken into a line
    let scan = 0;
    while (scan < chunk.length) {
      const lf = chunk.indexOf(LF, scan);
      if (lf === -1) break;
      const crlf = lf > pos ? chunk[lf - 1] === CR : this.partialLen > 0 && this.partialLastByte() === CR;
      scan = lf + 1;
      if (!crlf) continue; // a bare LF stays inside the line and becomes a space
      const piece = chunk.subarray(pos, lf + 1);
      const line = this.partialLen ? Buffer.concat([...this.partial, piece], this.partialLen + piece.length) : piece;
      this.partial = [];
      this.partialLen = 0;
      this.headerBytes += piece.length;
      pos = lf + 1;
      // The empty line that ends the section is not header, so it may go past the cap.
      if (line.length > 2 && this.headerBytes > this.opts.maxHeaderBytes) { this.fail(REJECTS.headerSize); return; }
      this.headerLine(line.subarray(0, line.length - 2), 2, chunk, pos);
      if (this.phase !== 'header') return;
    }
    if (pos < chunk.length) {
      const rest = chunk.subarray(pos);
      this.headerBytes += rest.length;
      // Slack of 2: a pending CR may be the start of that empty line.
      if (this.headerBytes > this.opts.maxHeaderBytes + 2) { this.fail(REJECTS.headerSize); return; }
      // Copy: the caller may reuse its buffer, and this piece outlives the call.
      this.partial.push(Buffer.from(rest));
      this.partialLen += rest.length;
    }
  }

  private partialLastByte(): number {
    const last = this.partial[this.partial.length - 1];
    return last[last.length - 1];
  }

  /**
   * One header line without its terminator (`term` octets: 2, or 0 for an
   * unterminated last line). `chunk`/`next` locate what follows it, which
   * becomes body when this line ends the header section.
   */
  private headerLine(raw: Buffer, term: number, chunk: Buffer | null, next: number): void {
    if (raw.indexOf(0) !== -1) { this.fail(REJECTS.nul); return; }
    let s = raw.toString('latin1');
    if (s.includes('\r') || s.includes('\n')) {
      // J3 / CVE-2002-0285: a stray CR or LF must not split one field into two.
      s = s.replace(/[\r\n]/g, () => { this.strayInHeader++; return ' '; });
    }
    const cur = this.fields[this.fields.length - 1];
    switch (classifyLine(s, cur !== undefined)) {
      case 'field':
        this.fields.push({ lname: fieldName(s), lines: [s] });
        return;
      case 'continuation':
        cur.lines.push(s);
        return;
      case 'blank':
        this.repairs.add('dropped whitespace-only header line');
        return;
      case 'end':
        this.headerBytes -= term; // the empty line is the separator, not header
        this.endHeader(false);
        break;
      case 'malformed': {
        const action = this.opts.malformedHeaderAction;
        if (action === 'reject') { this.fail(REJECTS.malformed); return; }
        this.headerBytes -= raw.length + term;
        this.repairs.add('header section ended early; empty line inserted');
        this.endHeader(action === 'add_header');
        if (this.phase === 'body') this.bodyChunk(Buffer.from(`${s}\r\n`, 'latin1'));
        break;
      }
    }
    if (chunk && this.phase === 'body' && next < chunk.length) this.bodyChunk(chunk.subarray(next));
  }

  private endHeader(markEarlyEnd: boolean): void {
    if (this.strayInHeader) this.repairs.add('replaced stray CR/LF in header with space', this.strayInHeader);
    const out = finishHeader(this.fields, {
      hostname: this.opts.hostname,
      maxLineLength: this.opts.maxLineLength,
      addMessageId: this.opts.addMessageId,
      addDate: this.opts.addDate,
      maxHeaderAddresses: this.opts.maxHeaderAddresses,
      maxReceived: this.opts.maxReceived,
      addressCaps: { maxFieldBytes: this.opts.maxAddressFieldBytes, maxFields: this.opts.maxAddressFields },
      now: this.opts.clock.now(),
      queueId: this.input.queueId,
      received: this.receivedText,
      markEarlyEnd,
    }, this.repairs);
    this.fields = [];
    if (!out.ok) { this.fail(out.reject); return; }
    this.info = out.info;
    this.phase = 'body';
    this.emitOut(Buffer.from(out.text, 'latin1'));
  }
}
