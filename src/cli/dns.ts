// `portwarden dns records DOMAIN`: the zone lines to publish for a hosted
// domain — submission SRV (RFC 6186, RFC 8314), the autoconfig and
// autodiscover names, and the DKIM TXT of every configured key of the domain
// (the dkim part's formatter, the same lines `dkim record` prints).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { zoneLines } from '../autoconfig/index.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { dnsRecord } from '../dkim/index.ts';
import { visible } from '../core/index.ts';
import { configPath, type Command } from './commands.ts';

const USAGE = [
  'usage: portwarden dns records DOMAIN [--no-mailboxes] [--config FILE]',
  '',
  'Prints zone-file lines for DOMAIN: _submissions/_submission SRV to the submission server,',
  'autoconfig./autodiscover. CNAMEs to the autoconfig server (when autoconfig.listen is set),',
  'and the DKIM TXT of each dkim key of DOMAIN. --no-mailboxes: nobody hosts mailboxes for',
  'DOMAIN, so _imap/_imaps/_pop3/_pop3s are published as "not offered" (RFC 6186 target ".").',
].join('\n');

const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export const dnsCommand: Command = {
  summary: 'DNS records to publish: dns records DOMAIN (SRV, autoconfig CNAMEs, DKIM TXT)',
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, allowPositionals: true, options: {
        config: { type: 'string' }, 'no-mailboxes': { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
    } catch (e) {
      io.err(`dns: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    const { values, positionals } = parsed;
    if (values.help || positionals[0] === 'help') { io.out(USAGE); return 0; }
    if (positionals[0] !== 'records' || positionals.length !== 2) { io.err(USAGE); return 2; }
    const domain = positionals[1].toLowerCase().replace(/\.$/, '');
    if (!DOMAIN.test(domain)) { io.err(`dns records: ${visible(positionals[1])} is not a domain name`); return 2; }
    let cfg;
    try {
      cfg = loadConfig(configPath(values.config, io));
    } catch (err) {
      if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
      throw err;
    }
    const a = cfg.autoconfig;
    if (!a.domains.includes(domain)) io.err(`warning: ${domain} is not in autoconfig.domains; autoconfig answers 404 for it`);
    if (values['no-mailboxes'] && a.incoming.length) { io.err('dns records: --no-mailboxes, but autoconfig.incoming names mailbox servers'); return 2; }
    const lines = [`; portwarden: records for ${domain}`, ...zoneLines({
      domain, server: a.server ?? cfg.hostname, starttlsPort: a.starttlsPort, tlsPort: a.tlsPort,
      autoconfigHost: a.listen ? cfg.hostname : undefined, noMailboxes: values['no-mailboxes'], incoming: a.incoming,
    })];
    const keys = cfg.dkim.filter((k) => k.domain.toLowerCase() === domain);
    if (keys.length) lines.push('; DKIM (RFC 6376): the public half of each signing key');
    for (const k of keys) {
      try {
        lines.push(dnsRecord(k.domain.toLowerCase(), k.selector, readFileSync(k.keyFile, 'utf8')).zoneLine);
      } catch (e) {
        io.err(`dns records: dkim key ${k.selector} of ${domain}: ${k.keyFile}: ${(e as Error).message}`);
        return 1;
      }
    }
    for (const l of lines) io.out(l);
    return 0;
  },
};
