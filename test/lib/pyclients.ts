// Python socket peers for the connection tests: a pipelining client that never reads,
// and connections from chosen loopback source addresses (all of 127.0.0.0/8 is local on Linux).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Sends up to `total` octets of pipelined EHLO without ever calling recv(); reports how much
// the kernel took, whether send() was blocked (0.5 s or more without progress; it gives up
// after 1.5 s) and how long after its last progress the server dropped the connection (an
// error on send, or RST/FIN seen by poll() without reading).
const NEVER_READS = String.raw`
import json, select, socket, ssl, sys, time
port, total, tls = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == 'tls'
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
s.connect(('127.0.0.1', port))
if tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    s = ctx.wrap_socket(s)
s.setblocking(False)
chunk = b'EHLO pipelining.example\r\n' * 400
sent, last, stalled, dropped, deadline = 0, time.time(), 0.0, None, time.time() + 20
while sent < total and time.time() < deadline:
    try:
        sent += s.send(chunk[:total - sent])
        last = time.time()
    except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
        stalled = max(stalled, time.time() - last)
        if stalled > 1.5:
            break
        time.sleep(0.005)
    except OSError:
        dropped = time.time()
        break
blocked = stalled >= 0.5
if blocked and dropped is None:
    p = select.poll()
    p.register(s, select.POLLERR | select.POLLHUP | select.POLLRDHUP)
    while dropped is None and time.time() < deadline:
        if [e for _, e in p.poll(100) if e & (select.POLLERR | select.POLLHUP | select.POLLRDHUP)]:
            dropped = time.time()
print(json.dumps({'sent': sent, 'blocked': blocked, 'droppedAfter': None if dropped is None else dropped - last}))
`;

export interface NeverReadsResult { sent: number; blocked: boolean; droppedAfter: number | null }

export async function pipelineWithoutReading(port: number, total: number, tls: boolean): Promise<NeverReadsResult> {
  const { stdout } = await run('python3', ['-c', NEVER_READS, String(port), String(total), tls ? 'tls' : 'plain'], { timeout: 30_000 });
  return JSON.parse(stdout) as NeverReadsResult;
}

// Opens one connection per source address given, in order, keeping all open; prints the
// first reply line each got ("" when closed without one). Then closes the ones named in
// argv[3] (indexes) and opens one more from argv[4], printing its reply too.
const FROM_SOURCES = String.raw`
import json, socket, sys
port, sources = int(sys.argv[1]), sys.argv[2].split(',')
drop, late, host = [int(i) for i in sys.argv[3].split(',') if i], sys.argv[4], sys.argv[5]
def open_from(src):
    s = socket.socket(socket.AF_INET6 if ':' in src else socket.AF_INET)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((host, port))
    buf = b''
    try:
        while b'\n' not in buf:
            d = s.recv(512)
            if not d: break
            buf += d
    except socket.timeout:
        pass
    return s, buf.decode('latin1').split('\r\n')[0]
conns = [open_from(src) for src in sources]
out = [line for _, line in conns]
for i in drop:
    conns[i][0].close()
import time; time.sleep(0.3)
if late:
    out.append(open_from(late)[1])
print(json.dumps(out))
`;

/**
 * First reply line per connection (kept open), then after closing `drop` one more from `late`.
 * `via` prefixes the command (e.g. ["ip", "netns", "exec", NS]) to run it elsewhere.
 */
export async function connectFrom(port: number, sources: string[], drop: number[] = [], late = '', host = '127.0.0.1', via: string[] = []): Promise<string[]> {
  const argv = [...via, 'python3', '-c', FROM_SOURCES, String(port), sources.join(','), drop.join(','), late, host];
  const { stdout } = await run(argv[0], argv.slice(1), { timeout: 30_000 });
  return JSON.parse(stdout) as string[];
}
