// RFC 5952 §4.2.3: the run of zero groups an IPv6 address text shortens to "::".
// Shared by the client address keys (core/ip.ts) and the nft/ipset element writer
// (netpolicy/format.ts), which hold addresses differently but must print them alike.

/**
 * Start of the longest run of two or more zero groups among the 8 (the first on a
 * tie), or -1 when there is none; its length is zeroRunLength(groups, start).
 */
export function zeroRunStart(groups: ArrayLike<number>): number {
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  return best;
}

/** Zero groups from `start` on. */
export function zeroRunLength(groups: ArrayLike<number>, start: number): number {
  let j = start;
  while (j < 8 && groups[j] === 0) j++;
  return j - start;
}
