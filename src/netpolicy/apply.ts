// Applies compiled policy to the kernel through nft. Needs CAP_NET_ADMIN; the
// only part that does. A full apply is one nft transaction replacing
// portwarden's table, read back, and rolled back to the previous table when the
// read-back disagrees. Element-only changes go as one batch per call: nft
// re-reads the whole ruleset before every transaction (measured: ~0.5 s with
// 200 k elements loaded, for one element or for thousands), so the cost is per
// batch, not per change, and callers should coalesce changes (the agent does).
import { spawn } from 'node:child_process';
import type { Logger } from '../core/index.ts';
import { SET_NAMES, diffSets, type CompiledPolicy } from './compile.ts';
import { NFT_TABLE, compileNft, nftDeltaScript, type NftOptions } from './nft.ts';

export interface RunResult { code: number; stdout: string; stderr: string }
export type NftRunner = (args: readonly string[], input?: string) => Promise<RunResult>;

/** Runs nft, optionally inside a network namespace (tests, or an edge that keeps subscribers in one). */
export function nftRunner(opts: { netns?: string; nft?: string } = {}): NftRunner {
  const nft = opts.nft ?? 'nft';
  return (args, input) => new Promise((resolve) => {
    const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, nft, ...args] : [nft, ...args];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: String(e) }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // nft may exit before reading all input; its exit code says why
    child.stdin.end(input ?? '');
  });
}

export type ApplyResult =
  | { ok: true; mode: 'full' | 'delta' | 'none'; ms: number; changes: number }
  | { ok: false; error: string; restored: boolean; ms: number };

export interface BlockedSource { source: string; packets: number; destinations: number }

interface NftJson { nftables?: Array<Record<string, unknown>> }

export class NftApplier {
  private readonly run: NftRunner;
  private readonly log: Logger;
  private readonly nftOpts: NftOptions;
  private readonly table: string;
  /** What the kernel runs, as far as this applier knows; null forces a full apply. */
  current: CompiledPolicy | null = null;

  constructor(opts: { runner: NftRunner; logger: Logger; nft?: NftOptions }) {
    this.run = opts.runner;
    this.log = opts.logger;
    this.nftOpts = opts.nft ?? {};
    this.table = this.nftOpts.table ?? NFT_TABLE;
  }

  /** Brings the kernel to p: element batch when only set contents differ, else a full replace. */
  async apply(p: CompiledPolicy): Promise<ApplyResult> {
    const t0 = performance.now();
    const cur = this.current;
    if (cur && cur.version === p.version) return { ok: true, mode: 'none', ms: 0, changes: 0 };
    if (cur && cur.shape === p.shape) {
      const deltas = diffSets(cur.sets, p.sets);
      const r = await this.run(['-f', '/dev/stdin'], nftDeltaScript(deltas, p.sets, this.table));
      if (r.code === 0) {
        this.current = p;
        const changes = deltas.reduce((n, d) => n + d.add.length + d.remove.length, 0);
        return { ok: true, mode: 'delta', ms: performance.now() - t0, changes };
      }
      // The kernel drifted from what we believe (someone edited the table): resync in full.
      this.log.warn({ err: r.stderr.trim() }, 'netpolicy: element batch refused, replacing the table');
    }
    return this.applyFull(p);
  }

  async applyFull(p: CompiledPolicy): Promise<ApplyResult> {
    const t0 = performance.now();
    const before = this.current;
    const saved = before ? null : await this.run(['-s', 'list', 'table', 'inet', this.table]);
    const r = await this.run(['-f', '/dev/stdin'], compileNft(p, this.nftOpts));
    if (r.code !== 0) return { ok: false, error: r.stderr.trim() || `nft exited ${r.code}`, restored: false, ms: performance.now() - t0 };
    const problem = await this.verify(p);
    if (!problem) {
      this.current = p;
      const changes = SET_NAMES.reduce((n, s) => n + p.sets[s].length, 0);
      return { ok: true, mode: 'full', ms: performance.now() - t0, changes };
    }
    // Read-back disagrees: put back what ran before, so a bad policy never stays loaded.
    let restore: string;
    if (before) restore = compileNft(before, this.nftOpts);
    else if (saved && saved.code === 0) restore = `table inet ${this.table}\ndelete table inet ${this.table}\n${saved.stdout}`;
    else restore = `table inet ${this.table}\ndelete table inet ${this.table}\n`;
    const back = await this.run(['-f', '/dev/stdin'], restore);
    this.log.error({ problem, restored: back.code === 0 }, 'netpolicy: apply failed verification');
    return { ok: false, error: `verification failed: ${problem}`, restored: back.code === 0, ms: performance.now() - t0 };
  }

  /** Reads the table back; returns a description of the first disagreement, or null. */
  async verify(p: CompiledPolicy): Promise<string | null> {
    // Text, not JSON: nft 1.0.6's JSON omits the table comment that carries the version.
    const r = await this.run(['list', 'table', 'inet', this.table]);
    if (r.code !== 0) return `cannot read table back: ${r.stderr.trim()}`;
    const text = r.stdout;
    const comment = /^\tcomment "([^"]*)"/m.exec(text)?.[1] ?? '';
    if (!comment.includes(p.version)) return `table carries "${comment}", expected version ${p.version}`;
    for (const name of SET_NAMES) {
      const block = new RegExp(`\\tset ${name} \\{\\n([\\s\\S]*?)\\n\\t\\}`).exec(text)?.[1];
      if (block === undefined) return `set ${name} missing`;
      const elems = /elements = \{([\s\S]*?)\}/.exec(block)?.[1];
      const n = elems === undefined ? 0 : elems.split(',').length;
      if (n !== p.sets[name].length) return `set ${name} has ${n} elements, expected ${p.sets[name].length}`;
    }
    const notice = p.settings.notice4 || p.settings.notice6 ? ['notice'] : [];
    for (const c of ['forward', 'smtp_out', 'smtp_in', 'quarantine_out', 'quarantine_in', ...notice]) {
      if (!text.includes(`\tchain ${c} {`)) return `chain ${c} missing`;
    }
    return null;
  }

  /** Blocked port-25 attempts per source and distinct destinations, from the kernel's dynamic sets (G6). */
  async readBlocked(): Promise<BlockedSource[]> {
    const by = new Map<string, BlockedSource>();
    for (const v of ['4', '6']) {
      const src = await this.run(['-j', 'list', 'set', 'inet', this.table, `blocked_src${v}`]);
      const pair = await this.run(['-j', 'list', 'set', 'inet', this.table, `blocked_pair${v}`]);
      if (src.code !== 0 || pair.code !== 0) continue;
      for (const e of elems(src.stdout)) {
        const o = e as { elem?: { val?: string; counter?: { packets?: number } } };
        const source = typeof e === 'string' ? e : o.elem?.val;
        if (!source) continue;
        by.set(source, { source, packets: o.elem?.counter?.packets ?? 0, destinations: 0 });
      }
      for (const e of elems(pair.stdout)) {
        const o = e as { concat?: string[]; elem?: { val?: { concat?: string[] } } };
        const c = o.concat ?? o.elem?.val?.concat;
        if (!c) continue;
        const entry = by.get(c[0]) ?? { source: c[0], packets: 0, destinations: 0 };
        entry.destinations++;
        by.set(c[0], entry);
      }
    }
    return [...by.values()].sort((a, b) => b.destinations - a.destinations || b.packets - a.packets || a.source.localeCompare(b.source));
  }
}

function elems(json: string): unknown[] {
  const doc = JSON.parse(json) as NftJson;
  for (const item of doc.nftables ?? []) {
    const s = item.set as { elem?: unknown[] } | undefined;
    if (s) return s.elem ?? [];
  }
  return [];
}
