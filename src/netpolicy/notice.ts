// The notice redirect, as every compiler sees it: per family, where quarantined
// sources' TCP port 80 goes, and which walled-garden destinations keep their own
// port 80 (an OS update site reached over HTTP must not land on the notice page).
import type { CompiledPolicy } from './compile.ts';
import { noticeParts } from './model.ts';
import type { Family } from './prefix.ts';

/** The port redirected: plain HTTP. HTTPS cannot be redirected without a certificate warning (RFC 6108 leaves it alone too). */
export const HTTP_PORT = 80;

export interface NoticeTarget {
  family: Family;
  /** "192.0.2.80:80" or "[2001:db8::80]:80", as nft and iptables write a DNAT target. */
  target: string;
  addr: string;
  port: number;
  /** Garden prefixes whose allowed TCP ports include 80: not redirected. */
  keep80: string[];
}

const has80 = (ports: string): boolean => ports.split(',').some((p) => {
  const [a, b] = p.split('-').map(Number);
  return a <= HTTP_PORT && HTTP_PORT <= (b ?? a);
});

export function noticeTargets(p: CompiledPolicy): NoticeTarget[] {
  const out: NoticeTarget[] = [];
  for (const family of [4, 6] as const) {
    const target = family === 4 ? p.settings.notice4 : p.settings.notice6;
    if (!target) continue;
    const keep80 = p.garden.filter((g) => g.family === family && g.proto !== 'udp' && has80(g.ports)).map((g) => g.prefix);
    out.push({ family, target, ...noticeParts(target), keep80 });
  }
  return out;
}
