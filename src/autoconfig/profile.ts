// The Apple configuration profile (.mobileconfig) for mail setup: one
// com.apple.mail.managed payload, the outgoing server our submission
// (implicit TLS on the public tlsPort, RFC 8314), the incoming server the
// first of autoconfig.incoming (Apple's payload requires one). No password
// key is ever written: the device asks the user. The PayloadUUIDs are derived
// from the address (a UUIDv5-style SHA-1 name hash), so installing the profile
// for the same address again replaces the installed one instead of adding a
// second account. Keys as Apple documents them (Device Management, "Mail"
// and "TopLevel" profile payloads).
import { createHash } from 'node:crypto';
import { xmlEscape } from './xml.ts';
import type { AutoconfigOptions } from './answer.ts';

/** A stable UUID from a name (RFC 9562 §5.5 shape: SHA-1, version 5, variant 10). */
export function nameUuid(name: string): string {
  const h = createHash('sha1').update(`portwarden.mobileconfig:${name}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The reverse-DNS form of a domain: isp.example → example.isp. */
export const reverseDns = (domain: string): string => domain.toLowerCase().split('.').reverse().join('.');

type Value = string | number | boolean | Value[] | { [k: string]: Value };

function plistValue(v: Value, indent: string): string[] {
  if (typeof v === 'string') return [`${indent}<string>${xmlEscape(v)}</string>`];
  if (typeof v === 'number') return [`${indent}<integer>${Math.trunc(v)}</integer>`];
  if (typeof v === 'boolean') return [`${indent}<${v}/>`];
  if (Array.isArray(v)) return [`${indent}<array>`, ...v.flatMap((x) => plistValue(x, `${indent}  `)), `${indent}</array>`];
  return [`${indent}<dict>`, ...Object.entries(v).flatMap(([k, x]) => [`${indent}  <key>${xmlEscape(k)}</key>`, ...plistValue(x, `${indent}  `)]), `${indent}</dict>`];
}

/** An XML property list (Apple's DTD named, not fetched). */
export function plist(v: Value): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    ...plistValue(v, ''),
    '</plist>',
    '',
  ].join('\n');
}

/** The unsigned profile for a checked address in a hosted domain; null when there is no incoming server to name. */
export function mailProfile(o: AutoconfigOptions, address: string, domain: string): string | null {
  const incoming = o.incoming?.[0];
  if (!incoming) return null;
  const id = reverseDns(domain);
  const mail: Value = {
    PayloadType: 'com.apple.mail.managed',
    PayloadVersion: 1,
    PayloadIdentifier: `${id}.mobileconfig.mail.${nameUuid(`mail:${address}`)}`,
    PayloadUUID: nameUuid(`mail:${address}`),
    PayloadDisplayName: `${o.displayName} (${address})`,
    EmailAccountDescription: `${o.displayName} (${address})`,
    EmailAccountType: incoming.type === 'imap' ? 'EmailTypeIMAP' : 'EmailTypePOP',
    EmailAddress: address,
    IncomingMailServerHostName: incoming.hostname,
    IncomingMailServerPortNumber: incoming.port,
    // Apple's UseSSL: TLS (implicit or STARTTLS, whichever the server offers on that port).
    IncomingMailServerUseSSL: true,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerUsername: address,
    OutgoingMailServerHostName: o.server,
    OutgoingMailServerPortNumber: o.tlsPort,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerUsername: address,
  };
  return plist({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: `${id}.mobileconfig.${nameUuid(`profile:${address}`)}`,
    PayloadUUID: nameUuid(`profile:${address}`),
    PayloadDisplayName: `${o.displayName} mail`,
    PayloadDescription: `Mail settings for ${address}: the password is asked on the device.`,
    PayloadOrganization: o.displayName,
    PayloadRemovalDisallowed: false,
    PayloadContent: [mail],
  });
}

/** A file name for Content-Disposition: the address with anything but [A-Za-z0-9._-] replaced by "_". */
export const profileFileName = (address: string): string => `${address.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}.mobileconfig`;
