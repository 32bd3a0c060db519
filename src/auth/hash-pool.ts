// One limit on hash work for the whole process. Every argon2id hash or check,
// PBKDF2 derivation and crypt-style check takes a slot; at most `concurrency`
// run at once (each argon2id check holds 7 MiB, and @node-rs/argon2 shares
// libuv's 4 threads with file I/O), `queue` more wait, and past that a login is
// refused as temporarily failed instead of growing memory. bcrypt and SHA-crypt
// run in a piscina worker pool of the same size.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { CryptTask } from './hash-worker.ts';

export interface HashingOptions {
  /** Hash computations at once; default min(3, max(2, cores − 1)). */
  concurrency?: number;
  /** Waiting computations beyond that; default 200. */
  queue?: number;
}

/** The queue is full: answer 454 4.7.0 (temporary), never "wrong password". */
export class HashBusyError extends Error {
  constructor() {
    super('too many password checks waiting');
    this.name = 'HashBusyError';
  }
}

/** The worker module; cli/prime.ts loads it once so the compile cache holds it. */
export const HASH_WORKER_URL = new URL('./hash-worker.ts', import.meta.url).href;

export const defaultConcurrency = (): number => Math.min(3, Math.max(2, availableParallelism() - 1));

interface Stats { running: number; peak: number; computed: number; offloaded: number }

let concurrency = defaultConcurrency();
let queueMax = 200;
const waiting: Array<() => void> = [];
const stats: Stats = { running: 0, peak: 0, computed: 0, offloaded: 0 };
let pool: Piscina | null = null;

/** Set at start from config (auth.hashConcurrency, auth.hashQueue); tests reset it with {}. */
export function configureHashing(opts: HashingOptions): void {
  concurrency = opts.concurrency ?? defaultConcurrency();
  queueMax = opts.queue ?? 200;
  stats.peak = stats.running;
  const old = pool;
  pool = null;
  void old?.close();
  while (waiting.length && stats.running < concurrency) { stats.running++; waiting.shift()!(); }
}

/**
 * Counters for tests and benchmarks: computations running, the most at once, done, sent to
 * the workers, and how many wait now. A refusal is logged by the authenticator (auth-temporary).
 */
export function hashStats(): Readonly<Stats & { queued: number }> {
  return { ...stats, queued: waiting.length };
}

/**
 * Runs one hash computation in a slot. Returns its value and how long the computation
 * itself took (not the wait), which the authenticator pads failures with.
 */
export async function hashSlot<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  await acquire();
  const t0 = performance.now();
  try {
    return { value: await fn(), ms: performance.now() - t0 };
  } finally {
    stats.computed++;
    release();
  }
}

async function acquire(): Promise<void> {
  if (stats.running < concurrency) {
    stats.running++;
  } else {
    if (waiting.length >= queueMax) throw new HashBusyError();
    await new Promise<void>((res) => waiting.push(res)); // release() hands its slot over
  }
  if (stats.running > stats.peak) stats.peak = stats.running;
}

function release(): void {
  const next = stats.running <= concurrency ? waiting.shift() : undefined;
  if (next) next();
  else stats.running--;
}

/** A crypt-style check in the worker pool (inside a slot: the caller holds one). */
export function verifyInWorker(task: CryptTask): Promise<{ ok: boolean; ms: number }> {
  pool ??= new Piscina({
    filename: HASH_WORKER_URL,
    minThreads: 0,
    maxThreads: concurrency,
    idleTimeout: 30_000,
    // The slots already bound what reaches the pool; this only catches a bug.
    maxQueue: concurrency * 2,
  });
  stats.offloaded++;
  return pool.run(task) as Promise<{ ok: boolean; ms: number }>;
}
