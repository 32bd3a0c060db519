// `portwarden dkim …`: make a signing key and print the DNS record that publishes it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Clock, systemClock } from '../core/index.ts';
import { normaliseDomain } from './header.ts';
import { dkimKeygen, dnsRecord, type DnsRecord } from './keys.ts';

export interface DkimCommandContext {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Keys go to <dataDir>/dkim/<domain>/<selector>.pem unless --out says otherwise. */
  dataDir: string;
  /** For the default selector (pwYYYYMM), which makes rotation a new name, not an overwrite. */
  clock?: Clock;
}

const USAGE = [
  'usage: portwarden dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519] [--out DIR] [--force]',
  '       portwarden dkim record DOMAIN --selector S [--out DIR]',
  '',
  'keygen writes a new private key (mode 0600) to DIR/<selector>.pem, DIR defaulting to',
  '<dataDir>/dkim/<domain>, and prints the DNS TXT record to publish before signing with it.',
  'record prints that TXT record again for an existing key.',
].join('\n');

export async function runDkimCommand(argv: string[], ctx: DkimCommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === 'help' || sub === '--help') { ctx.out(USAGE); return 0; }
  if (sub !== 'keygen' && sub !== 'record') { ctx.err(`dkim: unknown command ${JSON.stringify(sub)}\n${USAGE}`); return 2; }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: {
      selector: { type: 'string' }, algorithm: { type: 'string', default: 'rsa' }, out: { type: 'string' },
      force: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  } catch (e) {
    ctx.err(`dkim ${sub}: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { ctx.out(USAGE); return 0; }
  const domain = normaliseDomain(positionals[0] ?? '');
  if (positionals.length !== 1 || !domain.includes('.')) { ctx.err(`dkim ${sub}: give one fully qualified DOMAIN\n${USAGE}`); return 2; }
  const dir = values.out ?? join(ctx.dataDir, 'dkim', domain);

  if (sub === 'record') {
    if (!values.selector) { ctx.err('dkim record: --selector is required'); return 2; }
    const file = join(dir, `${values.selector}.pem`);
    if (!existsSync(file)) { ctx.err(`dkim record: no key at ${file}`); return 1; }
    printRecord(ctx, dnsRecord(domain, values.selector, readFileSync(file, 'utf8')));
    return 0;
  }

  if (values.algorithm !== 'rsa' && values.algorithm !== 'ed25519') { ctx.err('dkim keygen: --algorithm is rsa or ed25519'); return 2; }
  const now = new Date((ctx.clock ?? systemClock).now());
  const selector = values.selector ?? `pw${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  let key;
  try {
    key = dkimKeygen({ domain, selector, algorithm: values.algorithm });
  } catch (e) {
    ctx.err(`dkim keygen: ${(e as Error).message}`);
    return 2;
  }
  const file = join(dir, `${selector}.pem`);
  // A selector names a published key; replacing the key under it breaks mail in flight.
  if (existsSync(file) && !values.force) { ctx.err(`dkim keygen: ${file} exists; choose another --selector (or --force)`); return 1; }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, key.privateKeyPem, { mode: 0o600, flag: values.force ? 'w' : 'wx' });
  chmodSync(file, 0o600);
  ctx.out(`wrote ${file}`);
  printRecord(ctx, key);
  ctx.out(`signing key: domain=${domain} selector=${selector} algorithm=${key.key.algorithm} file=${file}`);
  return 0;
}

function printRecord(ctx: DkimCommandContext, r: DnsRecord): void {
  ctx.out(`publish this TXT record at ${r.dnsName}:`);
  ctx.out(r.zoneLine);
}
