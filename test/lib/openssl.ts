// openssl s_client as a scripted TLS peer: connect (optionally after STARTTLS),
// wait for the handshake summary, then type lines one by one, the way a person
// at the terminal would. s_client reads a line "R" as "renegotiate" (TLS ≤ 1.2)
// when neither -quiet nor -ign_eof is given.
import { spawn } from 'node:child_process';

export interface SClientRun {
  status: number | null;
  out: string;
  /** Handshakes the server answered: with -state, s_client logs "read server hello" once per handshake. */
  handshakes: number;
}

export function sClientScript(port: number, opts: { starttls?: boolean; args?: string[]; lines?: string[]; gapMs?: number }): Promise<SClientRun> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, ...(opts.starttls ? ['-starttls', 'smtp'] : []), '-state', ...(opts.args ?? [])];
  return new Promise((resolve) => {
    const p = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let started = false;
    let exited = false;
    const lines = [...(opts.lines ?? [])];
    const next = (): void => {
      if (exited) return;
      const line = lines.shift();
      if (line === undefined) {
        p.stdin.end();
        return;
      }
      p.stdin.write(`${line}\n`);
      setTimeout(next, opts.gapMs ?? 400);
    };
    const onOut = (d: Buffer): void => {
      out += d.toString();
      if (!started && /Verify return code:/.test(out)) {
        started = true;
        setTimeout(next, 200);
      }
    };
    p.stdout.on('data', onOut);
    p.stderr.on('data', onOut);
    p.stdin.on('error', () => {}); // s_client may exit while we still type
    const killer = setTimeout(() => p.kill(), 15_000);
    p.on('close', (status) => {
      exited = true;
      clearTimeout(killer);
      resolve({ status, out, handshakes: (out.match(/^SSL_connect:SSLv3\/TLS read server hello$/gm) ?? []).length });
    });
  });
}
