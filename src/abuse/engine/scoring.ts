// Scores and windows. The case score decays exponentially (it halves every
// halfLifeMinutes); the rules see exact windowed sums: per class a series of
// per-second buckets with running totals, so "the sum within the last W
// seconds" is two binary searches, whatever the rate. A series keeps only what
// the longest window over its class can still see.
import { ruleScore, type Rule, type Weights } from '../rules.ts';
import type { SignalClass } from '../types.ts';

/** score at `to` of a score `s` held at `from`. */
export function decayed(s: number, from: number, to: number, halfLifeMs: number): number {
  return to <= from ? s : s * Math.pow(2, -(to - from) / halfLifeMs);
}

/** Adds `points` seen at `at` to a score held at `scoreAt`; returns the new score and its time (a late signal counts decayed). */
export function addPoints(score: number, scoreAt: number, points: number, at: number, halfLifeMs: number): { score: number; scoreAt: number } {
  if (at >= scoreAt) return { score: decayed(score, scoreAt, at, halfLifeMs) + points, scoreAt: at };
  return { score: score + decayed(points, at, scoreAt, halfLifeMs), scoreAt };
}

/** Per-second buckets of one class's amounts; cum[i] is the total up to and including bucket i. */
export class Series {
  private ts: number[] = [];
  private cum: number[] = [];
  private head = 0;
  /** The cumulative total before bucket `head` (what eviction dropped). */
  private base = 0;

  get buckets(): number { return this.ts.length - this.head; }

  add(sec: number, amount: number): void {
    const n = this.ts.length;
    if (n > this.head && this.ts[n - 1] === sec) { this.cum[n - 1] += amount; return; }
    if (n === this.head || this.ts[n - 1] < sec) {
      this.ts.push(sec);
      this.cum.push((n > this.head ? this.cum[n - 1] : this.base) + amount);
      return;
    }
    // A late signal: into its place, and every later total grows (rare: reports and replays arrive late).
    const i = this.firstAtOrAfter(sec);
    if (this.ts[i] !== sec) {
      this.ts.splice(i, 0, sec);
      this.cum.splice(i, 0, (i > this.head ? this.cum[i - 1] : this.base));
    }
    for (let j = i; j < this.ts.length; j++) this.cum[j] += amount;
  }

  /** Sum of buckets with endSec − windowS < ts ≤ endSec. */
  sum(endSec: number, windowS: number): number {
    return this.cumAt(endSec) - this.cumAt(endSec - windowS);
  }

  /** Drops buckets at or before `sec`. */
  evict(sec: number): void {
    while (this.head < this.ts.length && this.ts[this.head] <= sec) { this.base = this.cum[this.head]; this.head++; }
    if (this.head > 1024 && this.head * 2 > this.ts.length) {
      this.ts = this.ts.slice(this.head);
      this.cum = this.cum.slice(this.head);
      this.head = 0;
    }
  }

  /** Cumulative total of buckets with ts ≤ x. */
  private cumAt(x: number): number {
    const n = this.ts.length;
    if (n === this.head || this.ts[this.head] > x) return this.base;
    if (this.ts[n - 1] <= x) return this.cum[n - 1];
    let lo = this.head, hi = n - 1; // ts[lo] ≤ x < ts[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.ts[mid] <= x) lo = mid; else hi = mid;
    }
    return this.cum[lo];
  }

  private firstAtOrAfter(sec: number): number {
    let lo = this.head, hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ts[mid] < sec) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
}

/** What the rules need precomputed: which rules see a class, and how long a class's series must reach back. */
export class RuleBook {
  readonly rules: readonly Rule[];
  readonly weights: Weights;
  readonly byClass = new Map<SignalClass, Rule[]>();
  readonly keep = new Map<SignalClass, number>();
  readonly maxWindow: number;

  constructor(rules: readonly Rule[], weights: Weights) {
    this.rules = rules;
    this.weights = weights;
    let max = 0;
    for (const r of rules) {
      max = Math.max(max, r.window);
      for (const c of r.classes) {
        const list = this.byClass.get(c) ?? [];
        list.push(r);
        this.byClass.set(c, list);
        this.keep.set(c, Math.max(this.keep.get(c) ?? 0, r.window));
      }
    }
    this.maxWindow = max;
  }

  rule(name: string): Rule | undefined { return this.rules.find((r) => r.name === name); }
}

/** A subscriber's series by class. */
export class Windows {
  private readonly series = new Map<SignalClass, Series>();

  add(book: RuleBook, c: SignalClass, at: number, amount: number, nowSec: number): void {
    const keep = book.keep.get(c);
    if (keep === undefined) return; // no rule sees this class
    let s = this.series.get(c);
    if (!s) this.series.set(c, (s = new Series()));
    // Evicted before the add: a late signal older than the longest window is still judged with its own amount (then dropped).
    s.evict(nowSec - keep);
    s.add(Math.floor(at / 1000), amount);
  }

  /** The rule's points within its window ending at `at` (ruleScore over windowed sums). */
  points(book: RuleBook, rule: Rule, at: number): number {
    const end = Math.floor(at / 1000);
    const sums: Partial<Record<SignalClass, number>> = {};
    for (const c of rule.classes) {
      const s = this.series.get(c);
      if (s) sums[c] = s.sum(end, rule.window);
    }
    return ruleScore(rule, book.weights, sums);
  }
}
