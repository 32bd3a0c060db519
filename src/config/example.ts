// The config written by `portwarden init` and used by the README's quick start.
export function exampleConfig(opts: { smarthost: string; dataDir?: string; hostname?: string }): string {
  return `# portwarden configuration (see README.md). Paths are relative to this file.
hostname: ${opts.hostname ?? 'localhost'}
dataDir: ${opts.dataDir ?? './data'}
# store: postgres                     # sqlite (default: <dataDir>/state.db) | postgres (a fleet on one database)
# storeUrl: postgres://portwarden@db.isp.example/portwarden   # password from the URL or PGPASSWORD

listeners:
  - name: submission        # RFC 6409 port 587 role: STARTTLS required before AUTH
    host: 127.0.0.1
    port: 2587
    tls: starttls
  - name: submissions       # RFC 8314 port 465 role: implicit TLS
    host: 127.0.0.1
    port: 2465
    tls: implicit

# tls: { cert: /etc/ssl/smtp.pem, key: /etc/ssl/smtp.key }   # absent: self-signed ECDSA generated on first start

submission:
  helpUrl: https://portal.isp.example/mail-help
  malformedHeaderAction: add_header   # fix_quietly | add_header | reject

relay:
  smarthost: ${opts.smarthost}
  tls: opportunistic                   # none | opportunistic | required
  # user/password: AUTH to the smarthost, sent only inside STARTTLS with a verified certificate;
  # they need tls: required (and verifyCertificate: true, the default then); caFile for an internal CA

log:
  level: info
`;
}
