// `portwarden notice snippets`: the RFC 8910 captive-portal URI as the lines a
// provider pastes into its DHCP servers and routers, so that phones and laptops
// of a quarantined subscriber show the notice by themselves. The URI is that
// of the RFC 8908 API the notice page serves (http/notice.ts CAPTIVE_API_PATH)
// on the host of abuse.notices.pageUrl (an HTTPS front forwards it to
// abuse.noticeListen), or --uri.
//
// Checked against the real programs (notice-snippets.test.ts): Kea 2.2 names
// option 114 v4-captive-portal and option 103 v6-captive-portal (kea-dhcp4/6 -t
// accept the lines, and a DHCP client gets the option on the wire); ISC dhcpd
// 4.4 accepts the definitions (dhcpd -t). systemd-networkd's [DHCPServer]
// SendOption= is in systemd.network(5) (252). radvd has no captive-portal
// option (2.19: neither radvd.conf(5) nor the program names one), nor has
// networkd 252's [IPv6SendRA]: the RA option (type 37, RFC 8910
// §2.3) is printed as bytes for routers that take raw options. Cisco IOS's
// `option CODE ascii` in an `ip dhcp pool` and Junos's `dhcp-attributes option
// CODE string` are the vendors' generic option statements, not tried here.
import { parseArgs } from 'node:util';
import { CAPTIVE_API_PATH } from '../http/index.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { configPath, UsageError, type Command, type Io } from './commands.ts';

export const SNIPPETS_USAGE = `usage: portwarden notice snippets [--uri URI] [--config FILE]
  the RFC 8910 captive-portal URI (the RFC 8908 API of the notice page) as DHCPv4 option 114 and DHCPv6
  option 103 lines for Kea and ISC dhcpd, systemd-networkd, Cisco IOS and Junos, and the IPv6 RA option 37
  as bytes. The URI is https://<host of abuse.notices.pageUrl>${CAPTIVE_API_PATH} unless --uri gives it.`;

/** The URI as DHCP carries it, or why not: https (RFC 8908 §4), printable ASCII without quotes or backslashes, at most 255 octets (one DHCPv4 option). */
export function checkCaptiveUri(text: string): { ok: true; uri: string } | { ok: false; why: string } {
  let u: URL;
  try { u = new URL(text); } catch { return { ok: false, why: `${JSON.stringify(text)} is not a URI` }; }
  if (u.protocol !== 'https:') return { ok: false, why: `${JSON.stringify(text)}: the captive-portal API must be an https URI (RFC 8908 §4)` };
  const uri = u.href;
  if (!/^[\x21-\x7e]+$/.test(uri) || /["'\\]/.test(uri)) return { ok: false, why: `${JSON.stringify(text)}: only printable ASCII without quotes or backslashes fits every config format` };
  if (uri.length > 255) return { ok: false, why: `the URI has ${uri.length} octets; a DHCPv4 option holds 255` };
  return { ok: true, uri };
}

/** RFC 8910 §2.3: type 37, length in units of 8 octets (header included), the URI, NUL padding. */
export function raOption(uri: string): Buffer {
  const body = Buffer.from(uri, 'ascii');
  const len = Math.ceil((2 + body.length) / 8) * 8;
  const b = Buffer.alloc(len);
  b[0] = 37;
  b[1] = len / 8;
  body.copy(b, 2);
  return b;
}

export function captiveSnippets(uri: string): string {
  const bytes = [...raOption(uri)].map((b) => b.toString(16).padStart(2, '0'));
  const hex = Array.from({ length: Math.ceil(bytes.length / 16) }, (_, i) => bytes.slice(16 * i, 16 * i + 16).join(' ')).join('\n#   ');
  return `# RFC 8910 captive-portal URI: ${uri}
# (the RFC 8908 API of portwarden's notice page; a device asks it whether it is captive and where the notice is)

## Kea DHCPv4 (kea-dhcp4.conf: in "Dhcp4", a shared network or a subnet4 entry)
"option-data": [ { "name": "v4-captive-portal", "code": 114, "data": "${uri}" } ]

## Kea DHCPv6 (kea-dhcp6.conf: in "Dhcp6" or a subnet6 entry)
"option-data": [ { "name": "v6-captive-portal", "code": 103, "data": "${uri}" } ]

## ISC dhcpd (dhcpd.conf)
option v4-captive-portal code 114 = text;
option v4-captive-portal "${uri}";

## ISC dhcpd -6 (dhcpd6.conf)
option dhcp6.v6-captive-portal code 103 = text;
option dhcp6.v6-captive-portal "${uri}";

## systemd-networkd DHCP server ([DHCPServer] section of the .network file)
SendOption=114:string:${uri}

## Cisco IOS (in the subscribers' "ip dhcp pool"; the generic option statement, not tried here)
option 114 ascii "${uri}"

## Junos (access address-assignment pool; the generic option statement, not tried here)
set access address-assignment pool SUBSCRIBERS family inet dhcp-attributes option 114 string "${uri}"

## IPv6 Router Advertisement option 37 (RFC 8910 §2.3)
# radvd (2.19) has no captive-portal option, nor has systemd-networkd's [IPv6SendRA] (252).
# For routers that take raw RA options: type 37, length ${raOption(uri).length / 8} (units of 8 octets), the URI, NUL padding:
#   ${hex}
`;
}

export const noticeCommand: Command = {
  summary: 'notice snippets: the RFC 8910 captive-portal URI as DHCP (Kea, ISC dhcpd, networkd, IOS, Junos) and RA lines',
  async run(argv: string[], io: Io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { uri: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) { io.out(SNIPPETS_USAGE); return 0; }
    if (positionals[0] !== 'snippets' || positionals.length !== 1) throw new UsageError(SNIPPETS_USAGE);
    let text = values.uri;
    if (text === undefined) {
      let pageUrl: string;
      try { pageUrl = loadConfig(configPath(values.config, io)).abuse.notices.pageUrl; } catch (err) {
        if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
        throw err;
      }
      let origin: string;
      try { origin = new URL(pageUrl).origin; } catch { io.err(`notice snippets: abuse.notices.pageUrl ${JSON.stringify(pageUrl)} is not a URL; give --uri`); return 1; }
      text = `${origin}${CAPTIVE_API_PATH}`;
    }
    const c = checkCaptiveUri(text);
    if (!c.ok) { io.err(`notice snippets: ${c.why}`); return 1; }
    io.out(captiveSnippets(c.uri));
    return 0;
  },
};
