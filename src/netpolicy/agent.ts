// The edge agent: the one process with CAP_NET_ADMIN. It talks to the one
// server it is configured with, over HTTPS verified against a CA (and optionally
// a pinned key), with a token bound to its edge name; and it trusts nothing that
// server sends: every field of a pulled policy is checked (check.ts) before any
// nft text is built, and a policy that fails leaves the kernel as it is and is
// reported. It pulls with If-None-Match so an idle poll is one small request,
// applies element-only changes as one batch per poll (so changes arriving
// together cost one nft transaction), and reports blocked-attempt counters (G6).
// When the server is unreachable it keeps enforcing the last policy it applied.
import type { Logger } from '../core/index.ts';
import type { ApplyResult, NftApplier } from './apply.ts';
import { checkCompiled } from './check.ts';
import { httpsCall, type HttpAnswer, type TlsTrust } from './client.ts';
import type { AgentReport } from './http.ts';

export interface AgentOptions {
  /** The server's policy endpoint, "https://pw.example:8443" (path /v1/netpolicy is the default) or a full base URL. */
  url: string;
  token: string;
  edge: string;
  applier: NftApplier;
  logger: Logger;
  trust?: TlsTrust;
  /** Poll period; the change-to-enforcement latency is at most this plus one nft transaction. */
  intervalMs?: number;
  reportEveryMs?: number;
  /** Each request's time limit. */
  timeoutMs?: number;
  /** Largest policy accepted (a million prefixes are ~20 MB of JSON). */
  maxPolicyBytes?: number;
  /** Most blocked sources per report, the strongest first; the server refuses more than its own cap (10,000 by default). */
  maxReportSources?: number;
}

export type StepResult =
  | { kind: 'unchanged' }
  | { kind: 'applied'; result: ApplyResult; version: string }
  | { kind: 'rejected'; error: string; version: string }
  | { kind: 'error'; error: string };

/** The base URL of the endpoint, or an error: only https, since the token and the policy travel on it. */
export function agentBaseUrl(text: string): URL | string {
  let u: URL;
  try { u = new URL(text); } catch { return `not a URL: ${JSON.stringify(text)}`; }
  if (u.protocol !== 'https:') return `the policy endpoint is HTTPS only: ${JSON.stringify(text)}`;
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/netpolicy';
  u.pathname = u.pathname.replace(/\/$/, '');
  return u;
}

interface Rejection { version: string; error: string; at: number }

export class PolicyAgent {
  private readonly o: Required<Omit<AgentOptions, 'url'>> & { url: URL };
  /** The etag last pulled: the applied policy's, or a rejected one's (so it is not fetched and refused four times a second). */
  private etag = '';
  private lastReport = 0;
  /** The last policy refused by the checks, until one is applied: sent with every report. */
  rejected: Rejection | null = null;

  constructor(opts: AgentOptions) {
    const url = agentBaseUrl(opts.url);
    if (typeof url === 'string') throw new TypeError(url);
    this.o = {
      intervalMs: 250, reportEveryMs: 10_000, timeoutMs: 10_000, trust: {}, maxPolicyBytes: 256 * 1024 * 1024, maxReportSources: 10_000,
      ...opts, url,
    };
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.o.token}`, 'x-portwarden-edge': this.o.edge };
  }

  private call(path: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string, maxBytes = 64 * 1024): Promise<HttpAnswer> {
    const url = new URL(this.o.url);
    url.pathname += path;
    return httpsCall(url, { method, headers: { ...this.headers(), ...headers }, body, trust: this.o.trust, timeoutMs: this.o.timeoutMs, maxBytes });
  }

  /** One pull, and an apply when the policy changed and passes every check; run() reports afterwards. */
  async step(): Promise<StepResult> {
    let res: HttpAnswer;
    try {
      res = await this.call('/compiled', 'GET', this.etag ? { 'if-none-match': this.etag } : {}, undefined, this.o.maxPolicyBytes);
    } catch (err) {
      return { kind: 'error', error: `pull failed: ${String(err)}` };
    }
    if (res.status === 304) return { kind: 'unchanged' };
    if (res.status !== 200) return { kind: 'error', error: `pull answered ${res.status}` };
    const etag = typeof res.headers.etag === 'string' ? res.headers.etag : '';
    let json: unknown;
    try { json = JSON.parse(res.body.toString('utf8')); } catch (err) { return this.reject(etag, '', `not JSON: ${String(err)}`); }
    const checked = checkCompiled(json, this.o.applier.current);
    if (!checked.ok) return this.reject(etag, '', checked.error);
    const p = checked.value;
    if (etag !== `"${p.version}"`) return this.reject(etag, p.version, `etag ${JSON.stringify(etag)} does not name version ${p.version}`);
    const result = await this.o.applier.apply(p);
    if (result.ok) {
      // Only remember the version once it is enforced; a failed apply is retried next poll.
      this.etag = etag;
      this.rejected = null;
      this.o.logger.info({ version: p.version, mode: result.mode, ms: Math.round(result.ms), changes: result.changes }, 'netpolicy: applied');
    } else {
      this.o.logger.error({ version: p.version, error: result.error, restored: result.restored }, 'netpolicy: apply failed');
    }
    return { kind: 'applied', result, version: p.version };
  }

  private reject(etag: string, version: string, error: string): StepResult {
    this.etag = etag;
    this.rejected = { version: version || (/^"([0-9a-f]{1,64})"$/.exec(etag)?.[1] ?? ''), error, at: Date.now() };
    this.o.logger.error({ version: this.rejected.version, error, enforcing: this.o.applier.current?.version ?? null },
      'netpolicy: pulled policy refused; the edge keeps what it enforces');
    return { kind: 'rejected', error, version: this.rejected.version };
  }

  /** Sends the applied version, the last refusal and the strongest blocked-attempt counters. */
  async report(): Promise<boolean> {
    this.lastReport = Date.now();
    const cur = this.o.applier.current;
    if (!cur && !this.rejected) return false;
    const all = cur ? await this.o.applier.readBlocked() : [];
    const blocked = all.slice(0, this.o.maxReportSources);
    const body: AgentReport = {
      edge: this.o.edge, version: cur?.version ?? '', blocked,
      ...(all.length > blocked.length ? { omitted: all.length - blocked.length } : {}),
      ...(this.rejected ? { rejected: this.rejected } : {}),
    };
    try {
      const res = await this.call('/report', 'POST', { 'content-type': 'application/json' }, JSON.stringify(body));
      if (res.status !== 200) this.o.logger.warn({ status: res.status, answer: res.body.toString('utf8').slice(0, 200) }, 'netpolicy: report refused');
      return res.status === 200;
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
      const changed = (r.kind === 'applied' && r.result.ok) || r.kind === 'rejected';
      if (changed || Date.now() - this.lastReport >= this.o.reportEveryMs) await this.report();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.intervalMs);
        signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
  }
}
