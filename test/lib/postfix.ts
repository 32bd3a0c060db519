// A private Postfix instance for tests (Debian's postfix package): its own
// config_directory and queue_directory in a temp dir, listening on loopback only,
// no DNS, no local delivery. Two roles:
//  - next hop: accepts mail on an inet port and relays it to `relayhost` (a capture sink),
//  - client:   accepts mail on an inet port from 127.0.0.0/8 and relays it through
//              portwarden with SASL over STARTTLS.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, tempDir } from './tools.ts';

export interface PostfixOptions {
  /** Where Postfix relays everything: "[127.0.0.1]:PORT". */
  relayhost: string;
  /** SASL credentials and STARTTLS for the relayhost (client role). */
  sasl?: { user: string; pass: string };
  /** Extra main.cf lines. */
  main?: string[];
}

export class PostfixInstance {
  readonly dir: string;
  readonly port: number;
  private readonly remove: () => void;
  private constructor(dir: { path: string; remove(): void }, port: number) {
    this.dir = dir.path;
    this.remove = dir.remove;
    this.port = port;
  }

  get conf(): string { return join(this.dir, 'conf'); }
  get log(): string { return join(this.dir, 'log', 'maillog'); }

  static async start(opts: PostfixOptions): Promise<PostfixInstance> {
    const port = await freePort();
    const pf = new PostfixInstance(tempDir('pw-postfix-'), port);
    const conf = pf.conf;
    const q = join(pf.dir, 'queue');
    const data = join(pf.dir, 'data');
    const logd = join(pf.dir, 'log');
    chmodSync(pf.dir, 0o755); // the postfix user must reach data_directory
    for (const d of [conf, q, data, logd]) mkdirSync(d, { recursive: true });
    execFileSync('chown', ['postfix:postfix', data, logd]);
    const main = [
      'compatibility_level = 3.6',
      `config_directory = ${conf}`,
      `queue_directory = ${q}`,
      `data_directory = ${data}`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = postfix.test',
      'mydomain = test',
      'mydestination =',
      'local_recipient_maps =',
      'local_transport = error:local delivery is disabled',
      'alias_maps =',
      'alias_database =',
      'biff = no',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'relay_domains =',
      'smtpd_relay_restrictions = permit_mynetworks, reject',
      `relayhost = ${opts.relayhost}`,
      'smtp_dns_support_level = disabled',
      'smtp_host_lookup = native',
      'smtpd_peername_lookup = no',
      'in_flow_delay = 0',
      'queue_run_delay = 1s',
      'minimal_backoff_time = 1s',
      'maximal_backoff_time = 2s',
      `maillog_file = ${join(logd, 'maillog')}`,
      `maillog_file_prefixes = ${logd}`,
      'smtputf8_enable = yes',
      ...(opts.sasl ? [
        'smtp_sasl_auth_enable = yes',
        `smtp_sasl_password_maps = static:${opts.sasl.user}:${opts.sasl.pass}`,
        'smtp_sasl_security_options = noanonymous',
        'smtp_sasl_tls_security_options = noanonymous',
        'smtp_tls_security_level = encrypt',
        'smtp_sasl_mechanism_filter = plain, login',
      ] : ['smtp_tls_security_level = may']),
      ...(opts.main ?? []),
    ];
    writeFileSync(join(conf, 'main.cf'), main.join('\n') + '\n');
    writeFileSync(join(conf, 'master.cf'), [
      `127.0.0.1:${port} inet n - n - - smtpd`,
      'pickup unix n - n 60 1 pickup',
      'cleanup unix n - n - 0 cleanup',
      'qmgr unix n - n 300 1 qmgr',
      'tlsmgr unix - - n 1000? 1 tlsmgr',
      'rewrite unix - - n - - trivial-rewrite',
      'bounce unix - - n - 0 bounce',
      'defer unix - - n - 0 bounce',
      'trace unix - - n - 0 bounce',
      'verify unix - - n - 1 verify',
      'flush unix n - n 1000? 0 flush',
      'proxymap unix - - n - - proxymap',
      'proxywrite unix - - n - 1 proxymap',
      'smtp unix - - n - - smtp',
      'relay unix - - n - - smtp',
      'showq unix n - n - - showq',
      'error unix - - n - - error',
      'retry unix - - n - - error',
      'discard unix - - n - - discard',
      'anvil unix - - n - 1 anvil',
      'scache unix - - n - 1 scache',
      'postlog unix-dgram n - n - 1 postlogd',
    ].join('\n') + '\n');
    execFileSync('postfix', ['-c', conf, 'check'], { stdio: 'pipe' });
    execFileSync('postfix', ['-c', conf, 'start'], { stdio: 'pipe' });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      try {
        await new Promise<void>((res, rej) => {
          const s = connect(port, '127.0.0.1', () => { s.destroy(); res(); });
          s.on('error', rej);
        });
        return pf;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`postfix did not listen on ${port}: ${pf.readLog()}`);
  }

  readLog(): string {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8') : '';
  }

  /** Messages still in Postfix's queue (postqueue -p). */
  queue(): string {
    try {
      return execFileSync('postqueue', ['-c', this.conf, '-p'], { encoding: 'utf8' });
    } catch (err) {
      return String(err);
    }
  }

  async stop(): Promise<void> {
    try { execFileSync('postfix', ['-c', this.conf, 'stop'], { stdio: 'pipe' }); } catch { /* already stopped */ }
    // postfix stop returns before the master is gone; give it a moment, then remove the tree.
    await new Promise((r) => setTimeout(r, 300));
    this.remove();
  }
}
