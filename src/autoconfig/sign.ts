// CMS SignedData (RFC 5652; "PKCS#7 signed") around a profile: the content
// inside (not detached), the signer's certificate and its chain included,
// signed attributes (content type, message digest, signing time), SHA-256.
// RSA and ECDSA keys both (the node's generated certificate is ECDSA P-256).
// pkijs does the ASN.1; the signature itself is Node's WebCrypto.
import { createPrivateKey, X509Certificate, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export interface Signer { sign(content: Buffer): Promise<Buffer>; subject: string }

const pemBlocks = (pem: string): Buffer[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));

const toCert = (der: Buffer) => pkijs.Certificate.fromBER(new Uint8Array(der));

/** A signer from PEM text: the certificate (first block of certPem), the chain (the rest, and chainPem), the private key. */
export async function pemSigner(certPem: string, keyPem: string, chainPem = ''): Promise<Signer> {
  const ders = [...pemBlocks(certPem), ...pemBlocks(chainPem)];
  if (!ders.length) throw new Error('no certificate in the PEM');
  const x509 = new X509Certificate(ders[0]);
  const keyObj = createPrivateKey(keyPem);
  if (!x509.checkPrivateKey(keyObj)) throw new Error('the private key does not belong to the certificate');
  const pkcs8 = keyObj.export({ format: 'der', type: 'pkcs8' });
  const algorithm = keyObj.asymmetricKeyType === 'ec'
    ? { name: 'ECDSA', namedCurve: ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[keyObj.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'P-256' }
    : keyObj.asymmetricKeyType === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : null;
  if (!algorithm) throw new Error(`a ${keyObj.asymmetricKeyType} key cannot sign a profile (RSA or ECDSA only)`);
  const crypto = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] });
  const key = await crypto.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
  const certs = ders.map(toCert);
  const signer = certs[0];
  return {
    subject: x509.subject,
    async sign(content: Buffer): Promise<Buffer> {
      const data = new Uint8Array(content);
      const digest = await crypto.digest({ name: 'SHA-256' }, data);
      const signed = new pkijs.SignedData({
        version: 1,
        encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: pkijs.id_ContentType_Data, eContent: new asn1js.OctetString({ valueHex: data }) }),
        signerInfos: [new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.issuer, serialNumber: signer.serialNumber }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({
            type: 0,
            attributes: [
              new pkijs.Attribute({ type: '1.2.840.113549.1.9.3', values: [new asn1js.ObjectIdentifier({ value: pkijs.id_ContentType_Data })] }),
              new pkijs.Attribute({ type: '1.2.840.113549.1.9.5', values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
              new pkijs.Attribute({ type: '1.2.840.113549.1.9.4', values: [new asn1js.OctetString({ valueHex: digest })] }),
            ],
          }),
        })],
        certificates: certs,
      });
      await signed.sign(key, 0, 'SHA-256', undefined, crypto);
      const info = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: signed.toSchema(true) });
      return Buffer.from(info.toSchema().toBER(false));
    },
  };
}
