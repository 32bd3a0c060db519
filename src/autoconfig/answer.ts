// What each client is told: the logic, free of any HTTP framework (src/http
// mounts it). Every answer is for a domain in the configured list; any other
// is 404. The address a client sends is checked (one "local@domain", printable,
// no XML or JSON metacharacters it could use to break out) and then escaped on
// the way out anyway.
import { xmlEscape, parsePoxRequest } from './xml.ts';
import { mailProfile, profileFileName } from './profile.ts';

export interface AutoconfigOptions {
  /** The domains the provider hosts (lower case). */
  domains: readonly string[];
  /** The submission server's public host name (what clients connect to). */
  server: string;
  /** Public port of submission with STARTTLS (RFC 6409); 587. */
  starttlsPort: number;
  /** Public port of submission over implicit TLS (RFC 8314); 465. */
  tlsPort: number;
  /** Shown by clients as the provider's name. */
  displayName: string;
  /** Mailbox servers to list too (Thunderbird needs one); none by default. */
  incoming?: readonly IncomingServer[];
  /** Where Autodiscover v2 sends Outlook for the POX answer; default https://autodiscover.<domain>/autodiscover/autodiscover.xml. */
  autodiscoverUrl?: (domain: string) => string;
}

export interface IncomingServer { type: 'imap' | 'pop3'; hostname: string; port: number; socketType: 'SSL' | 'STARTTLS' }

export interface Answer { status: number; type: string; body: string }

const LOCAL = /^[A-Za-z0-9!#$%*+/=?^_`{|}~.-]{1,64}$/; // RFC 5322 atext and dots, without & ' (XML metacharacters)
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export type AddressCheck = { ok: true; local: string; domain: string } | { ok: false; why: string };

/** One plain address (no display name, no quotes, no UTF-8 local part: those are refused, not guessed). */
export function checkAddress(addr: string): AddressCheck {
  if (addr.length > 254) return { ok: false, why: 'the address is too long' };
  const at = addr.lastIndexOf('@');
  if (at <= 0) return { ok: false, why: 'not an address' };
  const local = addr.slice(0, at), domain = addr.slice(at + 1).toLowerCase().replace(/\.$/, '');
  if (!LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return { ok: false, why: 'the local part is not a plain one' };
  if (!DOMAIN.test(domain)) return { ok: false, why: 'the domain is not a host name' };
  return { ok: true, local, domain };
}

const text = (status: number, body: string): Answer => ({ status, type: 'text/plain; charset=utf-8', body: `${body}\n` });

export class Autoconfig {
  private readonly domains: Set<string>;
  readonly o: AutoconfigOptions;
  constructor(o: AutoconfigOptions) {
    this.o = o;
    this.domains = new Set(o.domains.map((d) => d.toLowerCase()));
  }

  hosts(domain: string): boolean { return this.domains.has(domain.toLowerCase().replace(/\.$/, '')); }

  /** The domain a request asks about: the address's, else the Host header's after "autoconfig." / "autodiscover.". */
  domainOf(address: string | undefined, host: string | undefined): { ok: true; domain: string; address?: string } | { ok: false; answer: Answer } {
    if (address !== undefined && address !== '') {
      const a = checkAddress(address);
      if (!a.ok) return { ok: false, answer: text(400, a.why) };
      if (!this.hosts(a.domain)) return { ok: false, answer: text(404, 'no configuration for this domain') };
      return { ok: true, domain: a.domain, address: `${a.local}@${a.domain}` };
    }
    const h = (host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    const m = /^(?:autoconfig|autodiscover)\.(.+)$/.exec(h);
    const domain = m ? m[1] : h;
    if (!this.hosts(domain)) return { ok: false, answer: text(404, 'no configuration for this domain') };
    return { ok: true, domain };
  }

  /** Thunderbird / K-9 autoconfig (config-v1.1.xml). Without an address the client fills in %EMAILADDRESS%. */
  thunderbird(address: string | undefined, host: string | undefined): Answer {
    const d = this.domainOf(address, host);
    if (!d.ok) return d.answer;
    const user = xmlEscape(d.address ?? '%EMAILADDRESS%');
    const e = xmlEscape, o = this.o;
    const server = (port: number, socketType: string) => [
      '    <outgoingServer type="smtp">',
      `      <hostname>${e(o.server)}</hostname>`,
      `      <port>${port}</port>`,
      `      <socketType>${socketType}</socketType>`,
      '      <authentication>password-cleartext</authentication>',
      `      <username>${user}</username>`,
      '    </outgoingServer>',
    ];
    const body = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<clientConfig version="1.1">',
      `  <emailProvider id="${e(d.domain)}">`,
      `    <domain>${e(d.domain)}</domain>`,
      `    <displayName>${e(o.displayName)}</displayName>`,
      `    <displayShortName>${e(o.displayName)}</displayShortName>`,
      ...(o.incoming ?? []).flatMap((i) => [
        `    <incomingServer type="${i.type}">`,
        `      <hostname>${e(i.hostname)}</hostname>`,
        `      <port>${i.port}</port>`,
        `      <socketType>${i.socketType}</socketType>`,
        '      <authentication>password-cleartext</authentication>',
        `      <username>${user}</username>`,
        '    </incomingServer>',
      ]),
      // RFC 8314 §3: implicit TLS first.
      ...server(o.tlsPort, 'SSL'),
      ...server(o.starttlsPort, 'STARTTLS'),
      '  </emailProvider>',
      '</clientConfig>',
      '',
    ].join('\n');
    return { status: 200, type: 'application/xml; charset=utf-8', body };
  }

  /** Outlook's POX autodiscover: the request names the address; the answer lists the SMTP settings. */
  pox(body: string): Answer {
    const p = parsePoxRequest(body);
    if (!p.ok) return text(400, `the request is not one this server reads: ${p.why}`);
    if (!p.email) return text(400, 'the request has no Request/EMailAddress');
    const d = this.domainOf(p.email, undefined);
    if (!d.ok) return d.answer;
    const e = xmlEscape, o = this.o;
    const protocol = (port: number, encryption: string, type = 'SMTP', host = o.server) => [
      '      <Protocol>',
      `        <Type>${type}</Type>`,
      `        <Server>${e(host)}</Server>`,
      `        <Port>${port}</Port>`,
      `        <LoginName>${e(d.address!)}</LoginName>`,
      '        <DomainRequired>off</DomainRequired>',
      '        <SPA>off</SPA>',
      '        <SSL>on</SSL>',
      `        <Encryption>${encryption}</Encryption>`,
      '        <AuthRequired>on</AuthRequired>',
      '      </Protocol>',
    ];
    const xml = [
      '<?xml version="1.0" encoding="utf-8"?>',
      '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
      '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">',
      '    <Account>',
      '      <AccountType>email</AccountType>',
      '      <Action>settings</Action>',
      ...(o.incoming ?? []).flatMap((i) => protocol(i.port, i.socketType === 'SSL' ? 'SSL' : 'TLS', i.type === 'imap' ? 'IMAP' : 'POP3', i.hostname)),
      ...protocol(o.tlsPort, 'SSL'),
      ...protocol(o.starttlsPort, 'TLS'),
      '    </Account>',
      '  </Response>',
      '</Autodiscover>',
      '',
    ].join('\n');
    return { status: 200, type: 'application/xml; charset=utf-8', body: xml };
  }

  /**
   * The Apple mail profile for one address (unsigned: src/http signs it). The address is required
   * (400 without); a domain not hosted is 404; with no autoconfig.incoming there is no profile to
   * give (Apple's mail payload requires an incoming server): 409, saying so.
   */
  profile(address: string | undefined): { ok: true; plist: string; fileName: string } | { ok: false; answer: Answer } {
    if (!address) return { ok: false, answer: text(400, 'the emailaddress parameter is required') };
    const d = this.domainOf(address, undefined);
    if (!d.ok) return d;
    const plist = mailProfile(this.o, d.address!, d.domain);
    if (plist === null) return { ok: false, answer: text(409, 'no incoming (IMAP/POP3) server is configured (autoconfig.incoming): an Apple mail profile needs one') };
    return { ok: true, plist, fileName: profileFileName(d.address!) };
  }

  /**
   * Autodiscover v2 (autodiscover.json): only Protocol=AutodiscoverV1 has an answer, the URL of the
   * POX endpoint (what Outlook then POSTs to); any other protocol (EWS, ActiveSync, …) is not
   * something an SMTP-only provider has, answered 400 InvalidProtocol as Exchange and automx2 do.
   */
  v2(email: string | undefined, protocol: string | undefined): Answer {
    const json = (status: number, v: unknown): Answer => ({ status, type: 'application/json; charset=utf-8', body: JSON.stringify(v) });
    if (!email) return json(400, { ErrorCode: 'InvalidUser', ErrorMessage: 'the Email parameter is required' });
    const d = this.domainOf(email, undefined);
    if (!d.ok) return d.answer.status === 404 ? json(404, { ErrorCode: 'InvalidUser', ErrorMessage: 'no configuration for this domain' }) : json(400, { ErrorCode: 'InvalidUser', ErrorMessage: d.answer.body.trim() });
    if ((protocol ?? '').toLowerCase() !== 'autodiscoverv1') {
      return json(400, { ErrorCode: 'InvalidProtocol', ErrorMessage: "The given protocol value is invalid. Supported values are 'AutodiscoverV1'." });
    }
    const url = this.o.autodiscoverUrl?.(d.domain) ?? `https://autodiscover.${d.domain}/autodiscover/autodiscover.xml`;
    return json(200, { Protocol: 'AutodiscoverV1', Url: url });
  }
}
