// Black-box harness: runs the real `portwarden` command in a child process with
// its own data directory, listeners on ephemeral loopback ports (learnt from the
// JSON "listening" log lines) and a smarthost of the test's choosing.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { CaptureSink } from './sink.ts';
import { freePort, tempDir } from './tools.ts';

const execFileP = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
export const NODE = process.execPath;

export interface ListenerSpec { name: string; tls: 'none' | 'starttls' | 'implicit'; bareLf?: 'reject' | 'normalize'; extra?: string }

export interface StartOptions {
  smarthost: string;
  listeners?: ListenerSpec[];
  accounts?: Array<{ login: string; password: string; addresses?: string[]; subscriber?: string; disabled?: boolean }>;
  /** Extra YAML appended under the top level. */
  extraYaml?: string;
  relayYaml?: string;
  smtpYaml?: string;
  hostname?: string;
  /** Absolute data directory (e.g. on a filesystem the test mounted); default ./data beside the config. */
  dataDir?: string;
}

export class Portwarden {
  readonly dir: string;
  readonly config: string;
  readonly ports = new Map<string, number>();
  readonly logs: Array<Record<string, unknown>> = [];
  private child: ChildProcess | null = null;
  private readonly cleanup: () => void;

  private constructor(dir: { path: string; remove(): void }) {
    this.dir = dir.path;
    this.cleanup = dir.remove;
    this.config = join(dir.path, 'portwarden.yaml');
  }

  static async start(opts: StartOptions): Promise<Portwarden> {
    const pw = new Portwarden(tempDir('pw-e2e-'));
    const listeners = opts.listeners ?? [
      { name: 'submission', tls: 'starttls' },
      { name: 'submissions', tls: 'implicit' },
    ];
    writeFileSync(pw.config, [
      `hostname: ${opts.hostname ?? 'msa.isp.example'}`,
      `dataDir: ${opts.dataDir ? JSON.stringify(opts.dataDir) : './data'}`,
      'listeners:',
      ...listeners.map((l) => `  - {name: ${l.name}, host: 127.0.0.1, port: 0, tls: ${l.tls}${l.bareLf ? `, bareLf: ${l.bareLf}` : ''}${l.extra ? `, ${l.extra}` : ''}}`),
      'relay:',
      `  smarthost: "${opts.smarthost}"`,
      '  retrySchedule: [1, 1, 2]',
      ...(opts.relayYaml ? opts.relayYaml.split('\n').map((l) => `  ${l}`) : []),
      ...(opts.smtpYaml ? ['smtp:', ...opts.smtpYaml.split('\n').map((l) => `  ${l}`)] : []),
      'log: {level: debug}',
      opts.extraYaml ?? '',
    ].join('\n') + '\n');
    for (const a of opts.accounts ?? []) {
      await pw.cli(['account', 'add', a.login, '--password-stdin',
        ...(a.subscriber ? ['--subscriber', a.subscriber] : []),
        ...(a.addresses ?? []).flatMap((x) => ['--address', x])], a.password);
      if (a.disabled) await pw.cli(['account', 'disable', a.login, '--reason', 'test']);
    }
    await pw.run();
    return pw;
  }

  /** Runs a portwarden subcommand against this instance's config. */
  async cli(args: string[], stdin?: string): Promise<{ stdout: string; stderr: string }> {
    const p = execFileP(NODE, [MAIN, ...args, '--config', this.config], { cwd: this.dir, timeout: 30000 });
    if (stdin !== undefined) { p.child.stdin?.end(stdin); } else p.child.stdin?.end();
    return p;
  }

  private async run(): Promise<void> {
    const child = spawn(NODE, [MAIN, 'start', '--config', this.config], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const want = new Set<string>();
    const ready = new Promise<void>((res, rej) => {
      // A start that hangs must not outlive the test: the child would keep the test process alive for ever.
      const t = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`portwarden did not start in 45 s: ${stderr}`)); }, 45_000);
      child.on('exit', (code) => { clearTimeout(t); rej(new Error(`portwarden exited with ${code}: ${stderr}`)); });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let rec: Record<string, unknown>;
        try { rec = JSON.parse(line); } catch { return; }
        this.logs.push(rec);
        if (rec.event === 'listening') { this.ports.set(String(rec.listener), Number(rec.port)); want.add(String(rec.listener)); }
        if (rec.event === 'started') { clearTimeout(t); res(); }
      });
    });
    await ready;
  }

  port(name: string): number {
    const p = this.ports.get(name);
    if (!p) throw new Error(`no listener ${name}`);
    return p;
  }

  get pid(): number { return this.child?.pid ?? 0; }

  get running(): boolean { return !!this.child && this.child.exitCode === null && this.child.signalCode === null; }

  /** kill -9: no drain, no cleanup; what a crash or the OOM killer does. */
  async kill(): Promise<void> { await this.stop('SIGKILL'); }

  /** Starts the server again on the same config and data directory; ports change and are learnt again. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('portwarden is still running');
    this.ports.clear();
    await this.run();
  }

  logsOf(event: string): Array<Record<string, unknown>> {
    return this.logs.filter((l) => l.event === event);
  }

  /** SIGTERM (drain) and wait for exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null;
    const exited = new Promise<number | null>((res) => c.once('exit', (code) => res(code)));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 10000);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  async destroy(): Promise<void> {
    await this.stop();
    this.cleanup();
  }
}

/** The usual e2e pair: a capture sink, and portwarden relaying to it (the sink is closed again if the start fails). */
export async function startWithSink(opts: Omit<StartOptions, 'smarthost'>): Promise<{ sink: CaptureSink; pw: Portwarden }> {
  const sink = new CaptureSink();
  try {
    return { sink, pw: await Portwarden.start({ ...opts, smarthost: `127.0.0.1:${await sink.listen()}` }) };
  } catch (err) {
    await sink.close();
    throw err;
  }
}

/** Runs a command and returns its output and exit code without throwing. */
export async function run(cmd: string, args: string[], opts: { input?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => c.kill('SIGKILL'), opts.timeout ?? 30000);
    c.on('close', (code) => { clearTimeout(t); res({ code: code ?? -1, stdout, stderr }); });
    c.stdin.on('error', () => { /* the command may exit before reading its input */ });
    c.stdin.end(opts.input ?? '');
  });
}

/**
 * A next hop that is really down (nothing listens on its port, connections are
 * refused) or up (forwards to a capture sink), on one fixed port, so a server
 * configured once sees its smarthost go away and come back.
 */
export class NextHop {
  readonly port: number;
  private readonly target: number;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(port: number, target: number) { this.port = port; this.target = target; }

  /** Reserves a port for a hop to `targetPort`; it starts down. */
  static async reserve(targetPort: number): Promise<NextHop> {
    return new NextHop(await freePort(), targetPort);
  }

  get isUp(): boolean { return this.server !== null; }

  async up(): Promise<void> {
    if (this.server) return;
    const srv = createServer((inbound) => {
      const outbound = netConnect(this.target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => { inbound.destroy(); outbound.destroy(); });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((res, rej) => { srv.once('error', rej); srv.listen(this.port, '127.0.0.1', () => res()); });
    this.server = srv;
  }

  /** Closes the port and cuts every connection through it. */
  async down(): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => srv.close(() => res()));
  }
}
