// A private unbound (Debian's) on 127.0.0.1 serving test zones from
// local-data, authoritative for everything ("." is a static local zone), so
// no query ever leaves the machine. unbound cannot report a port it chose
// itself, so we pick a free UDP port, start it, and retry on a clash.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

export class TestDns {
  readonly server: string;
  private readonly proc: ChildProcess;
  private readonly dir: string;

  private constructor(server: string, proc: ChildProcess, dir: string) {
    this.server = server;
    this.proc = proc;
    this.dir = dir;
  }

  /** `records`: zone-file lines such as "a.test. IN MX 10 mx.a.test."; `zones` are made static. */
  static async start(zones: string[], records: string[]): Promise<TestDns> {
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), 'pw-unbound-'));
      const port = await freeUdpPort();
      const conf = [
        'server:',
        '  interface: 127.0.0.1',
        `  port: ${port}`,
        '  do-daemonize: no',
        '  chroot: ""',
        '  username: ""',
        `  directory: "${dir}"`,
        `  pidfile: "${join(dir, 'unbound.pid')}"`,
        '  use-syslog: no',
        '  logfile: ""',
        '  verbosity: 1',
        '  do-ip6: no',
        '  num-threads: 1',
        '  module-config: "iterator"',
        '  local-zone: "." static',
        ...zones.map((z) => `  local-zone: "${z}" static`),
        ...records.map((r) => `  local-data: "${r}"`),
        'remote-control:',
        '  control-enable: no',
        '',
      ].join('\n');
      writeFileSync(join(dir, 'unbound.conf'), conf);
      const proc = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      const ok = await new Promise<boolean>((resolve) => {
        let err = '';
        const timer = setTimeout(() => resolve(false), 5000);
        proc.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('start of service')) { clearTimeout(timer); resolve(true); }
        });
        proc.once('exit', () => { clearTimeout(timer); last = err; resolve(false); });
      });
      if (ok) {
        proc.stderr!.resume();
        return new TestDns(`127.0.0.1:${port}`, proc, dir);
      }
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    throw new Error(`unbound did not start: ${last}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
