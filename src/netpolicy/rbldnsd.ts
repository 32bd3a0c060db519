// DNSBL zone of the space that must not send mail directly, PBL-style: receivers
// that query it refuse unauthenticated SMTP from dynamic and CGNAT space. Exempt
// hosts, customer servers and our relays inside that space are listed as
// exclusions ("!"), the way an ISP removes a /32 from its PBL ranges when it
// grants an exemption. rbldnsd datasets ip4trie and ip6trie (longest match).
import type { CompiledPolicy } from './compile.ts';
import { formatAddr, intersectRanges, mergeRanges, parseRange, toCidrs, type Family, type Range } from './prefix.ts';

export interface RbldnsdOptions {
  /** A record returned for listed addresses; 127.0.0.10 is the PBL "ISP maintained" code. */
  answer?: string;
  /** TXT text; rbldnsd replaces "$" with the queried address. */
  text?: string;
  /** Optional "$SOA"/"$NS" lines (rbldnsd syntax), emitted as given. */
  header?: readonly string[];
}

export interface RbldnsdOutput { ip4trie: string; ip6trie: string }

const ranges = (items: readonly string[]): Range[] => items.map((e) => {
  const r = parseRange(e);
  if (!r) throw new Error(`netpolicy: bad compiled element ${e}`);
  return r;
});

export function compileRbldnsd(p: CompiledPolicy, opts: RbldnsdOptions = {}): RbldnsdOutput {
  const answer = opts.answer ?? '127.0.0.10';
  const text = opts.text ?? 'Dynamic or residential space: send through your provider\'s submission service ($)';
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(answer)) throw new Error('netpolicy: DNSBL answer must be in 127.0.0.0/8');
  const zone = (family: Family): string => {
    const v = family === 4 ? '4' : '6';
    const listed = ranges(p.sets[`dynamic${v}` as 'dynamic4']);
    const allowed = mergeRanges(ranges([
      ...p.sets[`exempt${v}` as 'exempt4'], ...p.sets[`server${v}` as 'server4'], ...p.sets[`relay${v}` as 'relay4'],
    ]));
    const excluded = intersectRanges(listed, allowed);
    let out = `# portwarden netpolicy ${p.version}: rbldnsd ip${v}trie dataset\n`;
    for (const h of opts.header ?? []) out += `${h}\n`;
    out += `:${answer}:${text}\n`;
    // Always "addr/len": rbldnsd reads a bare IPv6 address with omitted trailing words as a shorter prefix.
    const cidr = (c: { lo: bigint; len: number }): string => `${formatAddr(family, c.lo)}/${c.len}`;
    for (const r of listed) for (const c of toCidrs(r)) out += `${cidr(c)}\n`;
    for (const r of excluded) for (const c of toCidrs(r)) out += `!${cidr(c)}\n`;
    return out;
  };
  return { ip4trie: zone(4), ip6trie: zone(6) };
}
