// DNSBL zone of the space that must not send mail directly, PBL-style: receivers
// that query it refuse unauthenticated SMTP from dynamic and CGNAT space. Exempt
// hosts, customer servers and our relays inside that space are listed as
// exclusions ("!"), the way an ISP removes a /32 from its PBL ranges when it
// grants an exemption. rbldnsd datasets ip4trie and ip6trie (longest match).
import type { CompiledPolicy } from './compile.ts';
import { cidrsOf, intersect, mergeList, parseList } from './cidrs.ts';
import type { Family } from './prefix.ts';

export interface RbldnsdOptions {
  /** A record returned for listed addresses; 127.0.0.10 is the PBL "ISP maintained" code. */
  answer?: string;
  /** TXT text; rbldnsd replaces "$" with the queried address. */
  text?: string;
  /** Optional "$SOA"/"$NS" lines (rbldnsd syntax), emitted as given. */
  header?: readonly string[];
}

export interface RbldnsdOutput { ip4trie: string; ip6trie: string }

export function compileRbldnsd(p: CompiledPolicy, opts: RbldnsdOptions = {}): RbldnsdOutput {
  const answer = opts.answer ?? '127.0.0.10';
  const text = opts.text ?? 'Dynamic or residential space: send through your provider\'s submission service ($)';
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(answer)) throw new Error('netpolicy: DNSBL answer must be in 127.0.0.0/8');
  const zone = (family: Family): string => {
    const v = family === 4 ? '4' : '6';
    const listed = parseList(p.sets[`dynamic${v}` as 'dynamic4'], family);
    const allowed = mergeList([
      ...p.sets[`exempt${v}` as 'exempt4'], ...p.sets[`server${v}` as 'server4'], ...p.sets[`relay${v}` as 'relay4'],
    ], family);
    const excluded = intersect(listed, allowed);
    const lines = [`# portwarden netpolicy ${p.version}: rbldnsd ip${v}trie dataset`, ...(opts.header ?? []), `:${answer}:${text}`];
    // Always "addr/len": rbldnsd reads a bare IPv6 address with omitted trailing words as a shorter prefix.
    cidrsOf(listed, (addr, len) => `${addr}/${len}`, lines);
    cidrsOf(excluded, (addr, len) => `!${addr}/${len}`, lines);
    return lines.join('\n') + '\n';
  };
  return { ip4trie: zone(4), ip6trie: zone(6) };
}
