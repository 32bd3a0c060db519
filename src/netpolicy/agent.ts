// The edge agent: the one process with CAP_NET_ADMIN. It trusts the server it
// is configured with (over a token) for what to enforce, and nothing else; it
// pulls with If-None-Match so an idle poll is one small request, applies
// element-only changes as one batch per poll (so changes arriving together cost
// one nft transaction), and reports blocked-attempt counters back (G6).
// When the server is unreachable it keeps enforcing the last policy it applied.
import type { Logger } from '../core/index.ts';
import type { ApplyResult, NftApplier } from './apply.ts';
import type { CompiledPolicy } from './compile.ts';
import type { AgentReport } from './http.ts';

export interface AgentOptions {
  /** Base URL of the server's policy handler, e.g. "https://pw.example/v1/netpolicy". */
  url: string;
  token: string;
  edge: string;
  applier: NftApplier;
  logger: Logger;
  /** Poll period; the change-to-enforcement latency is at most this plus one nft transaction. */
  intervalMs?: number;
  reportEveryMs?: number;
  /** Each request's time limit. */
  timeoutMs?: number;
}

export type StepResult =
  | { kind: 'unchanged' }
  | { kind: 'applied'; result: ApplyResult; version: string }
  | { kind: 'error'; error: string };

export class PolicyAgent {
  private readonly o: Required<AgentOptions>;
  private etag = '';
  private lastReport = 0;

  constructor(opts: AgentOptions) {
    this.o = { intervalMs: 250, reportEveryMs: 10_000, timeoutMs: 10_000, ...opts, url: opts.url.replace(/\/$/, '') };
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.o.token}`, 'x-portwarden-edge': this.o.edge };
  }

  /** One pull, and an apply when the policy changed; run() reports afterwards, off the enforcement path. */
  async step(): Promise<StepResult> {
    let res: Response;
    try {
      res = await fetch(`${this.o.url}/compiled`, {
        headers: { ...this.headers(), ...(this.etag ? { 'if-none-match': this.etag } : {}) },
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      return { kind: 'error', error: `pull failed: ${String(err)}` };
    }
    if (res.status === 304) return { kind: 'unchanged' };
    if (res.status !== 200) {
      await res.body?.cancel();
      return { kind: 'error', error: `pull answered ${res.status}` };
    }
    let p: CompiledPolicy;
    try { p = (await res.json()) as CompiledPolicy; } catch (err) { return { kind: 'error', error: `bad policy: ${String(err)}` }; }
    if (p.format !== 'portwarden-netpolicy/1') return { kind: 'error', error: `unknown policy format ${String(p.format)}` };
    const result = await this.o.applier.apply(p);
    if (result.ok) {
      // Only remember the version once it is enforced; a failed apply is retried next poll.
      this.etag = res.headers.get('etag') ?? '';
      this.o.logger.info({ version: p.version, mode: result.mode, ms: Math.round(result.ms), changes: result.changes }, 'netpolicy: applied');
    } else {
      this.o.logger.error({ version: p.version, error: result.error, restored: result.restored }, 'netpolicy: apply failed');
    }
    return { kind: 'applied', result, version: p.version };
  }

  /** Sends the applied version and the blocked-attempt counters. */
  async report(): Promise<boolean> {
    this.lastReport = Date.now();
    const cur = this.o.applier.current;
    if (!cur) return false;
    const body: AgentReport = { edge: this.o.edge, version: cur.version, blocked: await this.o.applier.readBlocked() };
    try {
      const res = await fetch(`${this.o.url}/report`, {
        method: 'POST',
        headers: { ...this.headers(), 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      await res.body?.cancel();
      return res.status === 204;
    } catch (err) {
      this.o.logger.warn({ err: String(err) }, 'netpolicy: report failed');
      return false;
    }
  }

  /** Polls until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const r = await this.step();
      if (r.kind === 'error') this.o.logger.warn({ error: r.error }, 'netpolicy: agent step failed');
      const applied = r.kind === 'applied' && r.result.ok;
      if (applied || Date.now() - this.lastReport >= this.o.reportEveryMs) await this.report();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.intervalMs);
        signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
  }
}
