// Signing keys: checking configured ones once at start, making new ones, and
// the DNS TXT record (RFC 6376 §3.6.1, RFC 8463 §4.2) that publishes them.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { normaliseDomain } from './header.ts';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimKey {
  domain: string;
  selector: string;
  privateKeyPem: string;
  algorithm: DkimAlgorithm;
  /** Also sign for subdomains of `domain` (d= is then this parent; DMARC relaxed alignment holds). */
  subdomains?: boolean;
}

/** A configured key, checked and parsed. */
export interface LoadedKey {
  readonly config: DkimKey;
  readonly domain: string;
  readonly selector: string;
  readonly key: KeyObject;
}

// RFC 6376 §3.1: a selector is one or more sub-domain labels.
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Throws (a configuration error) naming the key, never showing its material. */
export function loadKey(k: DkimKey): LoadedKey {
  const where = `dkim key ${k.selector}._domainkey.${k.domain}`;
  const domain = normaliseDomain(k.domain ?? '');
  if (!domain || !domain.includes('.')) throw new Error(`${where}: domain is not a fully qualified domain name`);
  if (!SELECTOR.test(k.selector ?? '')) throw new Error(`${where}: selector is not a DNS label sequence`);
  if (k.algorithm !== 'rsa-sha256' && k.algorithm !== 'ed25519-sha256') throw new Error(`${where}: algorithm must be rsa-sha256 or ed25519-sha256`);
  let key: KeyObject;
  try {
    key = createPrivateKey(k.privateKeyPem);
  } catch {
    throw new Error(`${where}: privateKeyPem is not a readable private key`);
  }
  const type = k.algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519';
  if (key.asymmetricKeyType !== type) throw new Error(`${where}: key is ${key.asymmetricKeyType}, algorithm says ${type}`);
  // RFC 8301 §3.2: verifiers reject RSA keys below 1024 bits.
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (type === 'rsa' && bits < 1024) throw new Error(`${where}: RSA key has ${bits} bits, at least 1024 needed (2048 advised)`);
  return { config: k, domain, selector: k.selector.toLowerCase(), key };
}

/** The p= value: SubjectPublicKeyInfo for RSA, the bare 32-byte key for Ed25519 (RFC 8463 §4.2). */
export function publicKeyValue(privateKeyPem: string): { k: 'rsa' | 'ed25519'; p: string } {
  const pub = createPublicKey(privateKeyPem);
  if (pub.asymmetricKeyType === 'ed25519') {
    const x = pub.export({ format: 'jwk' }).x as string;
    return { k: 'ed25519', p: Buffer.from(x, 'base64url').toString('base64') };
  }
  if (pub.asymmetricKeyType === 'rsa') return { k: 'rsa', p: pub.export({ format: 'der', type: 'spki' }).toString('base64') };
  throw new Error(`unsupported key type ${pub.asymmetricKeyType}`);
}

export interface DnsRecord {
  dnsName: string;
  /** The TXT value as one string (what a resolver hands back once joined). */
  txt: string;
  /** The value cut into ≤255-octet character-strings (RFC 1035 §3.3), for zone files and APIs. */
  txtStrings: string[];
  /** A BIND zone-file line. */
  zoneLine: string;
}

export function dnsRecord(domain: string, selector: string, privateKeyPem: string): DnsRecord {
  const { k, p } = publicKeyValue(privateKeyPem);
  const dnsName = `${selector}._domainkey.${domain}`;
  const txt = `v=DKIM1; k=${k}; p=${p}`;
  const txtStrings: string[] = [];
  for (let i = 0; i < txt.length; i += 255) txtStrings.push(txt.slice(i, i + 255));
  const zoneLine = `${dnsName}. IN TXT ( ${txtStrings.map((s) => `"${s}"`).join(' ')} )`;
  return { dnsName, txt, txtStrings, zoneLine };
}

export interface KeygenOptions {
  domain: string;
  selector: string;
  algorithm: 'rsa' | 'ed25519';
}

export interface GeneratedKey extends DnsRecord {
  privateKeyPem: string;
  /** The DkimKey to put in the config. */
  key: DkimKey;
}

export function dkimKeygen(o: KeygenOptions): GeneratedKey {
  const domain = normaliseDomain(o.domain);
  if (!domain || !domain.includes('.')) throw new Error(`not a fully qualified domain name: ${o.domain}`);
  if (!SELECTOR.test(o.selector)) throw new Error(`not a valid selector: ${o.selector}`);
  const pair = o.algorithm === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ed25519');
  const privateKeyPem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const algorithm: DkimAlgorithm = o.algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256';
  return {
    privateKeyPem,
    key: { domain, selector: o.selector, privateKeyPem, algorithm },
    ...dnsRecord(domain, o.selector, privateKeyPem),
  };
}
