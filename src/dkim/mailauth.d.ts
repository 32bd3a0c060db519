// mailauth 7.1.0 (pinned in package.json) ships no types for its body
// canonicaliser; this is the part of it the signer uses.
declare module 'mailauth/lib/dkim/body/index.js' {
  export interface BodyHasher {
    update(chunk: Buffer): void;
    digest(encoding: 'base64'): string;
  }
  export function dkimBody(canonicalization: 'relaxed' | 'simple', algorithm: 'sha256', maxBodyLength: number | false): BodyHasher;
}
