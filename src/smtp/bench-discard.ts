// Benchmark target (a script, not a test): the engine with a handler that
// accepts AUTH PLAIN bench@example.com / benchpass, accepts every envelope and
// discards every body. Measures the engine alone.
//
//   node src/smtp/bench-discard.ts [--host 127.0.0.1] [--smtp 2525] [--submission 2587] \
//        [--submissions 2465] [--cert cert.pem --key key.pem] [--bare-lf reject|normalize]
//
// Without --cert/--key a throwaway self-signed certificate is made with openssl.
// Ports default to 2525 (plain, AUTH allowed without TLS), 2587 (STARTTLS) and
// 2465 (implicit TLS); pass 0 to skip a listener.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSecureContext } from 'node:tls';
import type { Readable } from 'node:stream';
import { accept, reply } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { SmtpServer, defaultListenerOptions } from './index.ts';
import type { ListenerOptions, SaslExchange, SmtpHandler } from './index.ts';

const { values: a } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    smtp: { type: 'string', default: '2525' },
    submission: { type: 'string', default: '2587' },
    submissions: { type: 'string', default: '2465' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'bare-lf': { type: 'string', default: 'reject' },
    'max-connections': { type: 'string', default: '100000' },
  },
});

function tlsMaterial(): { key: Buffer; cert: Buffer } {
  if (a.cert && a.key) return { key: readFileSync(a.key), cert: readFileSync(a.cert) };
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '7', '-subj', '/CN=localhost', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PLAIN_OK = Buffer.from('\0bench@example.com\0benchpass');
const PLAIN_OK_AUTHZ = Buffer.from('bench@example.com\0bench@example.com\0benchpass');

const handler: SmtpHandler = {
  authMechanisms: () => ['PLAIN'],
  authStart(_s, mech): SaslExchange | null {
    if (mech !== 'PLAIN') return null;
    let asked = false;
    return {
      async step(input) {
        if (input === null && !asked) {
          asked = true;
          return { type: 'challenge', data: Buffer.alloc(0) };
        }
        if (input && (input.equals(PLAIN_OK) || input.equals(PLAIN_OK_AUTHZ))) return { type: 'success', identity: 'bench@example.com' };
        return { type: 'failure', reply: reply(535, '5.7.8', 'Error: authentication failed') };
      },
    };
  },
  mailFrom: () => accept(),
  rcptTo: () => accept(),
  data(_s, _tx, body: Readable) {
    return new Promise((resolve) => {
      body.on('end', () => resolve(accept()));
      body.on('error', () => resolve(accept()));
      body.resume();
    });
  },
};

const stderrLogger: Logger = {
  debug: () => {},
  info: (o, m) => process.stderr.write(`${m ?? ''} ${JSON.stringify(o)}\n`),
  warn: () => {},
  error: (o, m) => process.stderr.write(`ERROR ${m ?? ''} ${JSON.stringify(o, Object.getOwnPropertyNames(o))}\n`),
  child: () => stderrLogger,
};

const common: Partial<ListenerOptions> = {
  host: a.host,
  hostname: 'bench.localhost',
  bareLf: a['bare-lf'] === 'normalize' ? 'normalize' : 'reject',
  maxConnections: Number(a['max-connections']),
  maxConnectionsPerIp: Number(a['max-connections']),
  forbidUnauthPipelining: false,
  maxMessageSize: 64 * 1024 * 1024,
};
const listeners: ListenerOptions[] = [];
if (Number(a.smtp)) listeners.push(defaultListenerOptions({ ...common, name: 'smtp', port: Number(a.smtp), tls: 'none', authRequiresTls: false }));
if (Number(a.submission)) listeners.push(defaultListenerOptions({ ...common, name: 'submission', port: Number(a.submission), tls: 'starttls', requireTls: true }));
if (Number(a.submissions)) listeners.push(defaultListenerOptions({ ...common, name: 'submissions', port: Number(a.submissions), tls: 'implicit' }));

const context = createSecureContext({ ...tlsMaterial(), minVersion: 'TLSv1.2' });
const server = new SmtpServer({ listeners, handler, logger: stderrLogger, secureContext: () => context });
await server.listen();
for (const l of server.addresses()) process.stdout.write(`${l.listener} ${l.host}:${l.port}\n`);
const stop = (): void => {
  void server.close({ drainMs: 2000 }).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
