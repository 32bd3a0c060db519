// Edge counters are totals since the edge's set element was added and start
// over when it expires: the abuse signals and the statistics both count the
// increase between two reports, the same way.

const total = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

/** The increase of a counter that starts over when its element expires: a total below the last one is a fresh element, all of it new. */
export function counterDelta(prev: number | undefined, now: number): number {
  const n = total(now);
  if (prev === undefined) return n;
  return n >= prev ? n - prev : n;
}
