// autoconfig: tells mail clients how to reach the submission server for the
// domains the provider hosts — Thunderbird/K-9 autoconfig (config-v1.1.xml),
// Outlook's POX autodiscover and Autodiscover v2 (autodiscover.json) — and
// writes the DNS records to publish (RFC 6186 SRV, autoconfig CNAMEs); and
// the signed Apple configuration profile (.mobileconfig) for one address.
// Only submission is offered: implicit TLS on 465 first, STARTTLS on 587
// (RFC 8314), authentication password over TLS.
//
// Trusts nothing from the request: the address is one plain local@domain
// (refused otherwise, never guessed), the domain must be a configured one
// (404 otherwise), the POX body is read by a bounded scanner that refuses any
// DOCTYPE or entity declaration (no XXE), and every value written is escaped.
// Free of any HTTP framework: src/http mounts it and bounds the body.
export { Autoconfig, checkAddress, type Answer, type AutoconfigOptions, type IncomingServer, type AddressCheck } from './answer.ts';
export { parsePoxRequest, xmlEscape } from './xml.ts';
export { zoneLines, type ZoneOptions } from './dns.ts';
export { mailProfile, nameUuid, plist, profileFileName, reverseDns } from './profile.ts';
export { pemSigner, type Signer } from './sign.ts';
