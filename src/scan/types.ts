// The scan part's contract (issue 14): what a content scanner answers, what the
// pipeline decides from all of them, and what a message is scanned with. The
// clients (rspamd over HTTP /checkv2, clamd over INSTREAM) implement `Scanner`;
// `ScanPipeline` runs the configured scanners and combines their results; the
// MSA (submission) and the inbound filter (inbound) call the pipeline through a
// port of their own and turn its decision into a reply, a header or a hold.
import type { Reply } from '../core/index.ts';

/** What one scanner concluded about one message. */
export type ScanVerdictKind =
  /** Nothing found (rspamd "no action", clamd OK). */
  | 'clean'
  /** rspamd "reject", clamd FOUND (when the virus action is reject). */
  | 'reject'
  /** rspamd "soft reject" (and "greylist" when mapped so): try later. */
  | 'soft-reject'
  /** rspamd "add header" / "rewrite subject": deliver, marked. */
  | 'add-header'
  /** rspamd "quarantine" / "discard", clamd FOUND when the virus action is hold: into hold/ for the desk. */
  | 'hold'
  /** Larger than the scanner's size cap (ours, or clamd's "INSTREAM size limit exceeded"): never silently clean. */
  | 'oversize'
  /** Every host of the scanner failed (connect, timeout, protocol): the scanner's failure policy applies. */
  | 'failed';

/** What becomes of the message, weakest first: the pipeline takes the strongest of all scanners'. */
export type ScanAction = 'accept' | 'add-header' | 'hold' | 'tempfail' | 'reject';
export const SCAN_ACTION_ORDER: readonly ScanAction[] = ['accept', 'add-header', 'hold', 'tempfail', 'reject'];

export interface ScanResult {
  /** The scanner's configured name ("rspamd", "clamd"). */
  scanner: string;
  verdict: ScanVerdictKind;
  /** The action this verdict maps to under the scanner's configuration (failure and oversize policies included). */
  action: ScanAction;
  /**
   * Why, in the scanner's words: the rspamd action and its top symbols, the clamd
   * signature name, the failure ("connect ECONNREFUSED 127.0.0.1:11333", "timeout after 15000 ms").
   * Outside text: whoever logs or shows it encodes it.
   */
  reason: string;
  /** rspamd's score, or null. */
  score: number | null;
  /** Header fields the scanner asked for (rspamd milter.add_headers, our X-Spam fields), name and raw value: outside text, encoded by the caller's header encoder before it is written. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** The host that answered (host:port or a socket path), or null when none did. */
  host: string | null;
  ms: number;
}

/** Who sent a message and what it is: rspamd's request headers are made from it. */
export interface ScanContext {
  queueId: string;
  /** outbound: a submission (rspamd's outbound settings id, User given); inbound: the provider's MX filter. */
  direction: 'outbound' | 'inbound';
  account: string | null;
  subscriber: string | null;
  clientIp: string;
  helo: string | null;
  sender: string;
  recipients: readonly string[];
  tls: { version: string; cipher: string } | null;
}

/** The message as scanned: the fixed bytes as they will be relayed (CRLF lines), in chunks, or cut off at `cap` bytes. */
export interface ScanBody {
  chunks: readonly Buffer[];
  /** Bytes in chunks. */
  length: number;
  /** The message's whole size; more than `length` when the collector stopped at its cap (then every scanner says oversize). */
  size: number;
}

export interface Scanner {
  readonly name: string;
  /** Never throws: a failure is a result with verdict "failed" and the scanner's failure action. */
  scan(body: ScanBody, ctx: ScanContext): Promise<ScanResult>;
  close(): Promise<void>;
}

/** The pipeline's decision for one message. */
export interface ScanDecision {
  action: ScanAction;
  /** For reject (554 5.7.1) and tempfail (451 4.7.1 / 451 4.3.0): the catalogue reply the client gets. */
  reply?: Reply;
  /** For hold: the reason filed with the held message ("scan: clamd Eicar-Test-Signature"). */
  holdReason?: string;
  /** Header lines to prepend (each a full field ending in CRLF, already encoded by message/'s generated-field encoder). */
  headers: readonly string[];
  /** Every scanner's result, in configuration order (the scan.verdict events are made from these). */
  results: readonly ScanResult[];
}

export interface ScanPipelinePort {
  /** The largest cap of the configured scanners: the collector keeps at most this many bytes. */
  readonly maxSize: number;
  scan(body: ScanBody, ctx: ScanContext): Promise<ScanDecision>;
}
