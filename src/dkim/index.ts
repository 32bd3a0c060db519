// dkim: DKIM signatures for the domains we host, made when a message leaves
// (REQUIREMENTS D7). It runs last, after every other change (the message
// fixer at submission, F3 line endings): the spool keeps the bytes as received
// and the relay prepends the field this part returns on the wire.
//
// Trusts: the configured keys (checked once, at construction) and the caller's
// word that the bytes are final. Nothing in the message: the signing domain
// comes from the single From author domain actually being signed, never from
// the envelope, and a message whose From is not ours is left unsigned.
// Does not decide: who may use which From (sender binding is submission's).
//
// Use:
//   const signer = new DkimSigner({ keys: [{ domain, selector, privateKeyPem, algorithm: 'rsa-sha256' }], logger });
//   const field = await signer.sign(createReadStream(spoolBody));  // '' when not ours
//   send(field, then the spooled bytes);
// Several keys for one domain (rsa-sha256 + ed25519-sha256) give one field each.
//
// Body canonicalisation is mailauth's (pinned 7.1.0), fed as the bytes stream
// past; header selection, oversigning (which mailauth's signer cannot do) and
// the signature are ours.
//
// Implements: RFC 6376 (relaxed/relaxed, §5.4.2 oversigning), RFC 8463
// (ed25519-sha256), RFC 8301 (no sha1, RSA ≥ 1024 bits), RFC 6409 §8.5.
export { DkimSigner, DEFAULT_SIGNED_HEADERS, type DkimSignerOptions, type MessageSource } from './signer.ts';
export { dkimKeygen, dnsRecord, publicKeyValue, type DkimKey, type DkimAlgorithm, type KeygenOptions, type GeneratedKey, type DnsRecord } from './keys.ts';
export { runDkimCommand, type DkimCommandContext } from './cli.ts';
export { authorDomain } from './header.ts';
