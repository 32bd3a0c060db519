// The edge agent: the one process with CAP_NET_ADMIN. It talks to the one
// server it is configured with, over HTTPS verified against a CA (and optionally
// a pinned key), with a token bound to its edge name; and it trusts nothing that
// server sends: every field of a pulled policy is checked (check.ts) before any
// nft text is built, and a policy that fails leaves the kernel as it is and is
// reported. It pulls with If-None-Match so an idle poll is one small request,
// applies element-only changes as one batch per poll (so changes arriving
// together cost one nft transaction), and reports blocked-attempt counters (G6).
// Push is a long poll: each pull asks the server to hold it until the policy
// changes (?wait=), and the next pull goes out as soon as one is answered; a
// server that does not say it holds pulls (no X-Portwarden-Wait) is pulled on
// the interval, as before. Failures back off exponentially with jitter, so a
// fleet of agents does not return in step after a server restart.
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
  /**
   * Poll period when the server does not hold pulls (or holds too many already); with push the
   * change-to-enforcement latency is one round trip plus one nft transaction.
   */
  intervalMs?: number;
  /** Seconds each pull asks the server to hold it (long poll); 0 pulls on the interval only. Default 50. */
  waitSeconds?: number;
  /** First pause after a failure; it doubles per failure up to maxRetryMs, each drawn between half and all of it. */
  retryMs?: number;
  maxRetryMs?: number;
  reportEveryMs?: number;
  /** Each request's time limit (a held pull gets its wait on top). */
  timeoutMs?: number;
  /** Largest policy accepted (a million prefixes are ~20 MB of JSON). */
  maxPolicyBytes?: number;
  /** Most blocked sources per report, the strongest first; the server refuses more than its own cap (10,000 by default). */
  maxReportSources?: number;
}

export type StepResult =
  /** held: the server took the wait (so the next pull may go at once). */
  | { kind: 'unchanged'; held: boolean }
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
      intervalMs: 250, waitSeconds: 50, retryMs: 1000, maxRetryMs: 30_000, reportEveryMs: 10_000, timeoutMs: 10_000, trust: {}, maxPolicyBytes: 256 * 1024 * 1024, maxReportSources: 10_000,
      ...opts, url,
    };
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.o.token}`, 'x-portwarden-edge': this.o.edge };
  }

  private call(path: string, method: 'GET' | 'POST', headers: Record<string, string>,
    o: { body?: string; maxBytes?: number; waitS?: number; signal?: AbortSignal } = {}): Promise<HttpAnswer> {
    const url = new URL(this.o.url);
    url.pathname += path;
    if (o.waitS) url.searchParams.set('wait', String(o.waitS));
    return httpsCall(url, {
      method, headers: { ...this.headers(), ...headers }, body: o.body, trust: this.o.trust,
      timeoutMs: this.o.timeoutMs + (o.waitS ?? 0) * 1000, maxBytes: o.maxBytes ?? 64 * 1024, signal: o.signal,
    });
  }

  /**
   * One pull, and an apply when the policy changed and passes every check; run() reports afterwards.
   * With waitS the server may hold the pull that long for a change (once a version is known).
   */
  async step(waitS = 0, signal?: AbortSignal): Promise<StepResult> {
    let res: HttpAnswer;
    const wait = this.etag ? waitS : 0;
    try {
      res = await this.call('/compiled', 'GET', this.etag ? { 'if-none-match': this.etag } : {}, { maxBytes: this.o.maxPolicyBytes, waitS: wait, signal });
    } catch (err) {
      return { kind: 'error', error: `pull failed: ${String(err)}` };
    }
    if (res.status === 304) return { kind: 'unchanged', held: wait > 0 && Number(res.headers['x-portwarden-wait']) > 0 };
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
      const res = await this.call('/report', 'POST', { 'content-type': 'application/json' }, { body: JSON.stringify(body) });
      if (res.status !== 200) this.o.logger.warn({ status: res.status, answer: res.body.toString('utf8').slice(0, 200) }, 'netpolicy: report refused');
      return res.status === 200;
    } catch (err) {
      this.o.logger.warn({ err: String(err) }, 'netpolicy: report failed');
      return false;
    }
  }

  /**
   * Pulls until the signal aborts: long polls back to back while the server holds them, on the
   * interval otherwise; reports after every change (the acknowledgement) and every reportEveryMs.
   */
  async run(signal: AbortSignal): Promise<void> {
    const reports = this.reportLoop(signal);
    let failures = 0;
    while (!signal.aborted) {
      const r = await this.step(this.o.waitSeconds, signal);
      if (signal.aborted) break;
      if (r.kind === 'error') this.o.logger.warn({ error: r.error }, 'netpolicy: agent step failed');
      const failed = r.kind === 'error' || (r.kind === 'applied' && !r.result.ok);
      failures = failed ? failures + 1 : 0;
      if ((r.kind === 'applied' && r.result.ok) || r.kind === 'rejected') await this.report();
      // A failed apply is retried, but not at once: the server answers a stale version without holding.
      const pause = failed ? this.backoff(failures) : r.kind === 'unchanged' && !r.held ? this.o.intervalMs : 0;
      if (pause) await sleep(pause, signal);
    }
    await reports;
  }

  /** The pause after the n-th failure in a row: doubling from retryMs to maxRetryMs, drawn from its upper half. */
  backoff(n: number): number {
    const d = Math.min(this.o.maxRetryMs, this.o.retryMs * 2 ** Math.min(n - 1, 30));
    return d / 2 + Math.random() * (d / 2);
  }

  /** Counters go on their own clock: a held pull may last longer than the report period. */
  private async reportLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(Math.max(0, this.lastReport + this.o.reportEveryMs - Date.now()), signal);
      if (signal.aborted) break;
      if (Date.now() - this.lastReport >= this.o.reportEveryMs) await this.report();
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const done = (): void => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
