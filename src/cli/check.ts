// What `start` would refuse, found without starting anything: `config check`
// and `start` both run this after the schema, so a config that passes the check
// does not fail at start for a reason the file could have shown. Each problem
// names file:line:col and the key. Nothing is created, bound or generated here.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ConfigError, splitHostPort, type Config } from '../config/index.ts';
import type { EdgeToken } from '../netpolicy/index.ts';
import { CidrList, type Limits } from '../limits/index.ts';
import { limitsFromConfig } from './limits.ts';
import { RuleError, parseRules, parseWeights } from '../abuse/index.ts';

type Where = (path: Array<string | number>) => string;
/** With no errors, also what the checks built, so that `start` does not build it again. */
export interface ConfigProblems { errors: string[]; warnings: string[]; limits?: Limits; edgeTokens?: EdgeToken[] }

export async function configProblems(cfg: Config, where: Where): Promise<ConfigProblems> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const at = (path: Array<string | number>, message: string) => `${where(path)}: ${path.join('.')}: ${message}`;
  const limits = limitsFromConfig(cfg, where);
  if (!limits.ok) errors.push(...limits.errors);
  let edgeTokens: EdgeToken[] | undefined;
  cfg.limits.trustedNetworks.forEach((n, i) => {
    if (!(CidrList.parse([n]) instanceof CidrList)) errors.push(at(['limits', 'trustedNetworks', i], `not an address or CIDR: ${JSON.stringify(n)}`));
  });
  if (!redisUrlOk(cfg.limits.redisUrl)) {
    errors.push(at(['limits', 'redisUrl'], `${JSON.stringify(cfg.limits.redisUrl)}: expected redis://HOST:PORT[/DB], rediss://HOST:PORT (TLS) or the path of a Unix socket`));
  }
  errors.push(...await dkimProblems(cfg, at));
  errors.push(...tlsProblems(cfg, at));
  if (cfg.relay.caFile) readable(cfg.relay.caFile, ['relay', 'caFile'], at, errors);
  if (cfg.netpolicy.tokenFile) {
    // The loader start uses ("EDGE-NAME TOKEN" lines; bare tokens refused), so both refuse the same file.
    const { loadEdgeTokens } = await import('./edge-tokens.ts');
    try { edgeTokens = await loadEdgeTokens(cfg.netpolicy.tokenFile); } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const i of err.issues) errors.push(`${where(['netpolicy', 'tokenFile'])}: ${i}`);
    }
  }
  errors.push(...addressClashes(cfg, at));
  errors.push(...abuseRuleProblems(cfg, where));
  errors.push(...(await import('./notice-wiring.ts')).noticeProblems(cfg, at));
  errors.push(...(await import('./sources-wiring.ts')).sourcesProblems(cfg, at));
  const mailbox = (await import('./mailbox-wiring.ts')).mailboxProblems(cfg, at);
  errors.push(...mailbox.errors);
  warnings.push(...mailbox.warnings);
  if (cfg.hostname === 'localhost' || !cfg.hostname.includes('.')) {
    warnings.push(at(['hostname'], `"${cfg.hostname}" is not this server's public name: it is the greeting and EHLO name, and goes into Received, Message-ID, bounces and the generated certificate; set it to the MSA's fully qualified name`));
  }
  return errors.length ? { errors, warnings } : { errors, warnings, limits: limits.ok ? limits.limits : undefined, edgeTokens };
}

/** The abuse rules and class weights, checked as the engine will read them (errors name the rule's path). */
function abuseRuleProblems(cfg: Config, where: Where): string[] {
  const out: string[] = [];
  for (const [key, parse] of [['classes', () => parseWeights(cfg.abuse.classes)], ['rules', () => parseRules(cfg.abuse.rules)]] as const) {
    try { parse(); } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      out.push(`${where(['abuse', key])}: ${err.message}`);
    }
  }
  return out;
}

function redisUrlOk(url: string): boolean {
  if (url.startsWith('/')) return true; // ioredis takes a socket path as well
  try {
    const u = new URL(url);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '' && (u.pathname === '' || /^\/\d{0,2}$/.test(u.pathname));
  } catch {
    return false;
  }
}

function readable(file: string, path: Array<string | number>, at: (p: Array<string | number>, m: string) => string, errors: string[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    errors.push(at(path, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`));
    return null;
  }
}

/** The signer's own key checks (parse, key type against algorithm, RSA size), one key at a time, and duplicates. */
async function dkimProblems(cfg: Config, at: (p: Array<string | number>, m: string) => string): Promise<string[]> {
  if (!cfg.dkim.length) return [];
  const { DkimSigner } = await import('../dkim/index.ts');
  const errors: string[] = [];
  const seen = new Map<string, number>();
  cfg.dkim.forEach((k, i) => {
    const name = `${k.selector}._domainkey.${k.domain}`.toLowerCase();
    if (seen.has(name)) errors.push(at(['dkim', i], `${name} is configured twice (also dkim.${seen.get(name)})`));
    seen.set(name, i);
    const pem = readable(k.keyFile, ['dkim', i, 'keyFile'], at, errors);
    if (pem === null) return;
    try {
      new DkimSigner({ keys: [{ domain: k.domain, selector: k.selector, algorithm: k.algorithm, subdomains: k.subdomains, privateKeyPem: pem }] });
    } catch (err) {
      errors.push(at(['dkim', i, 'keyFile'], `${k.keyFile}: ${(err as Error).message}`));
    }
  });
  return errors;
}

function tlsProblems(cfg: Config, at: (p: Array<string | number>, m: string) => string): string[] {
  const { cert, key } = cfg.tls;
  if (!cert || !key) return [];
  const errors: string[] = [];
  const c = readable(cert, ['tls', 'cert'], at, errors);
  const k = readable(key, ['tls', 'key'], at, errors);
  if (c === null || k === null) return errors;
  try {
    new X509Certificate(c);
  } catch (err) {
    return [at(['tls', 'cert'], `${cert} is not a PEM certificate: ${(err as Error).message}`)];
  }
  try {
    createSecureContext({ cert: c, key: k });
  } catch (err) {
    return [at(['tls', 'key'], `${key} does not go with ${cert}: ${(err as Error).message}`)];
  }
  return [];
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** Two sockets on one port where the kernel would refuse the second bind (a wildcard overlaps every address of its family; "::" is dual-stack). */
function addressClashes(cfg: Config, at: (p: Array<string | number>, m: string) => string): string[] {
  const binds: Array<{ path: Array<string | number>; name: string; host: string; port: number }> = [];
  cfg.listeners.forEach((l, i) => binds.push({ path: ['listeners', i, 'port'], name: `listeners.${i} (${l.name})`, host: l.host.toLowerCase(), port: l.port }));
  for (const [section, key] of [['metrics', 'listen'], ['policyService', 'listen'], ['netpolicy', 'listen'], ['api', 'listen']] as const) {
    const hp = cfg[section].listen;
    if (!hp) continue;
    const { host, port } = splitHostPort(hp);
    binds.push({ path: [section, key], name: `${section}.${key}`, host: host.toLowerCase(), port });
  }
  const abuse: Array<[Array<string | number>, string | undefined]> = [[['abuse', 'noticeListen'], cfg.abuse.noticeListen], [['abuse', 'mailbox', 'listen'], cfg.abuse.mailbox.listen], [['autoconfig', 'listen'], cfg.autoconfig.listen], [['console', 'listen'], cfg.console.listen]];
  for (const [path, hp] of abuse) {
    if (!hp) continue;
    const { host, port } = splitHostPort(hp);
    binds.push({ path, name: path.join('.'), host: host.toLowerCase(), port });
  }
  const family = (h: string) => (h.includes(':') ? 6 : 4);
  const clash = (a: { host: string }, b: { host: string }) => a.host === b.host
    || a.host === '::' || b.host === '::'
    || (WILDCARD.has(a.host) && family(a.host) === family(b.host)) || (WILDCARD.has(b.host) && family(a.host) === family(b.host));
  const errors: string[] = [];
  binds.forEach((b, i) => {
    if (b.port === 0) return; // an ephemeral port never clashes
    const first = binds.slice(0, i).find((o) => o.port === b.port && clash(o, b));
    if (first) errors.push(at(b.path, `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port} is also used by ${first.name}`));
  });
  return errors;
}
