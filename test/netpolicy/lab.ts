// A throwaway network lab in namespaces: an edge router between a subscriber
// segment (br-sub) and an upstream segment (br-up). Only documentation
// addresses, assigned here; every namespace is removed by destroy().
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Host { name: string; ns: string; v4: string; v6: string }

export const HOSTS = {
  dyn: { side: 'sub', v4: '198.51.100.10', v6: '2001:db8:1::10' },
  exempt: { side: 'sub', v4: '198.51.100.20', v6: '2001:db8:1::20' },
  quar: { side: 'sub', v4: '198.51.100.30', v6: '2001:db8:1::30' },
  static: { side: 'sub', v4: '203.0.113.10', v6: '2001:db8:3::10' },
  relay: { side: 'up', v4: '192.0.2.25', v6: '2001:db8:ff::25' },
  outside: { side: 'up', v4: '192.0.2.100', v6: '2001:db8:ff::100' },
  /** The walled garden's notice page (HTTP servers are started by the tests that need them: serveHttp). */
  notice: { side: 'up', v4: '192.0.2.80', v6: '2001:db8:ff::80' },
  /** An outside web server. */
  web: { side: 'up', v4: '192.0.2.180', v6: '2001:db8:ff::180' },
} as const;
export type HostName = keyof typeof HOSTS;

const GW: Record<string, { v4: string; v6: string; nets: Array<[string, string]> }> = {
  sub: { v4: '', v6: '', nets: [['198.51.100.1/24', '2001:db8:1::1/64'], ['203.0.113.1/24', '2001:db8:3::1/64']] },
  up: { v4: '192.0.2.1', v6: '2001:db8:ff::1', nets: [['192.0.2.1/24', '2001:db8:ff::1/64']] },
};

function gateway(h: { side: string; v4: string }): { v4: string; v6: string } {
  if (h.side === 'up') return { v4: GW.up.v4, v6: GW.up.v6 };
  return h.v4.startsWith('203.') ? { v4: '203.0.113.1', v6: '2001:db8:3::1' } : { v4: '198.51.100.1', v6: '2001:db8:1::1' };
}

const sh = (args: string[], input?: string): string => execFileSync(args[0], args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });

// Accepts and closes on every given port, IPv4 and IPv6 (dual-stack sockets).
const LISTENER = `
import socket, sys, threading
def serve(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', port)); s.listen(64)
    while True:
        c, _ = s.accept(); c.close()
for p in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
print('ready', flush=True)
threading.Event().wait()
`;

// Answers every GET with the marker given (any path, any Host), IPv4 and IPv6.
const HTTP = `
import socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        b = (sys.argv[2] + '\\n').encode()
        self.send_response(200); self.send_header('content-length', str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
class S(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); super().server_bind()
s = S(('::', int(sys.argv[1])), H)
print('ready', flush=True)
s.serve_forever()
`;

// Connects to every "addr port" target in parallel; prints "addr port open|refused|timeout".
const PROBE = `
import socket, sys, threading
out = {}
def go(a, p):
    fam = socket.AF_INET6 if ':' in a else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(1.5)
    try: s.connect((a, int(p))); out[(a, p)] = 'open'
    except ConnectionRefusedError: out[(a, p)] = 'refused'
    except OSError as e: out[(a, p)] = 'timeout' if isinstance(e, socket.timeout) else 'unreachable'
    finally: s.close()
ts = [threading.Thread(target=go, args=tuple(t.split())) for t in sys.argv[1:]]
[t.start() for t in ts]; [t.join() for t in ts]
for (a, p), v in sorted(out.items()): print(a, p, v)
`;

// Sends forged segments from source port 25 (SYN-ACK, then ACK+PSH with data) that belong to no flow (G3).
const FORGE = `
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
for flags, payload in ((0x12, b''), (0x18, b'220 spoofed\\r\\n')):
    hdr = struct.pack('!HHIIBBHHH', 25, dport, 1000, 2000, 5 << 4, flags, 65535, 0, 0) + payload
    if ':' in dst:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 16)
        s.sendto(hdr, (dst, 0))
    else:
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(hdr))
        c = csum(pseudo + hdr)
        hdr = hdr[:16] + struct.pack('!H', c) + hdr[18:]
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        s.sendto(hdr, (dst, 0))
import time; time.sleep(0.1)
`;

export class Lab {
  readonly id = `pw-${randomBytes(3).toString('hex')}`;
  readonly edge = `${this.id}-edge`;
  readonly hosts = {} as Record<HostName, Host>;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];

  exec(ns: string, args: string[], input?: string): string {
    return sh(['ip', 'netns', 'exec', ns, ...args], input);
  }

  private addNs(ns: string): void {
    sh(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    // No duplicate address detection, link-local included: until it ends (~2 s) the first IPv6 flows stall.
    this.exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    this.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }

  async create(): Promise<void> {
    this.addNs(this.edge);
    const e = (args: string[]): string => this.exec(this.edge, args);
    e(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    e(['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    for (const side of ['sub', 'up'] as const) {
      e(['ip', 'link', 'add', `br-${side}`, 'type', 'bridge']);
      e(['ip', 'link', 'set', `br-${side}`, 'up']);
      for (const [v4, v6] of GW[side].nets) {
        e(['ip', 'addr', 'add', v4, 'dev', `br-${side}`]);
        e(['ip', '-6', 'addr', 'add', v6, 'dev', `br-${side}`, 'nodad']);
      }
    }
    for (const [name, h] of Object.entries(HOSTS) as Array<[HostName, (typeof HOSTS)[HostName]]>) {
      const ns = `${this.id}-${name}`;
      this.addNs(ns);
      // Create the pair inside the edge, then move the host end out: nothing is ever in the root namespace.
      e(['ip', 'link', 'add', `p-${name}`, 'type', 'veth', 'peer', 'name', 'eth0']);
      e(['ip', 'link', 'set', 'eth0', 'netns', ns]);
      e(['ip', 'link', 'set', `p-${name}`, 'master', `br-${h.side}`, 'up']);
      const x = (args: string[]): string => this.exec(ns, args);
      const gw = gateway(h);
      const len4 = '24', len6 = '64';
      x(['ip', 'addr', 'add', `${h.v4}/${len4}`, 'dev', 'eth0']);
      x(['ip', '-6', 'addr', 'add', `${h.v6}/${len6}`, 'dev', 'eth0', 'nodad']);
      x(['ip', 'link', 'set', 'eth0', 'up']);
      x(['ip', 'route', 'add', 'default', 'via', gw.v4]);
      x(['ip', '-6', 'route', 'add', 'default', 'via', gw.v6]);
      this.hosts[name] = { name, ns, v4: h.v4, v6: h.v6 };
    }
    await this.listen('outside', [25, 587, 465, 80]);
    await this.listen('relay', [25, 587, 80]);
    await this.listen('static', [25]);
    await this.listen('exempt', [25]);
  }

  /** An HTTP server on one host and port answering `marker` to every GET; stopped by destroy(). */
  serveHttp(host: HostName, port: number, marker: string): Promise<void> {
    return this.spawnReady(host, ['python3', '-c', HTTP, String(port), marker]);
  }

  /** What an HTTP GET from a host gets: the body, or "curl exit N" when none came. */
  httpGet(from: HostName, url: string): string {
    try {
      return this.exec(this.hosts[from].ns, ['curl', '-sS', '-g', '--max-time', '3', url]).trim();
    } catch (err) {
      return `curl exit ${(err as { status?: number }).status}`;
    }
  }

  private listen(host: HostName, ports: number[]): Promise<void> {
    return this.spawnReady(host, ['python3', '-c', LISTENER, ...ports.map(String)]);
  }

  private spawnReady(host: HostName, argv: string[]): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.hosts[host].ns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`listener in ${host} did not start`)), 5000);
      child.stdout.once('data', () => { clearTimeout(t); resolve(); });
    });
  }

  /** A host's address in one family. */
  addr(h: HostName, f: 4 | 6): string {
    return this.hosts[h][f === 4 ? 'v4' : 'v6'];
  }

  /** Asserts, for IPv4 and IPv6, which of `from`'s connections open and which are blocked. */
  matrix(from: HostName, expect: Array<[HostName, number, 'open' | 'blocked']>): void {
    for (const f of [4, 6] as const) {
      const got = this.probe(from, expect.map(([to, port]) => [this.addr(to, f), port]));
      for (const [to, port, want] of expect) {
        const v = got.get(`${this.addr(to, f)} ${port}`);
        assert.equal(v === 'open' ? 'open' : 'blocked', want, `IPv${f} ${from} → ${to}:${port} was ${v}`);
      }
    }
  }

  /** Connects from one host to many "addr port" targets at once. */
  probe(from: HostName, targets: Array<[string, number]>): Map<string, string> {
    const out = this.exec(this.hosts[from].ns, ['python3', '-c', PROBE, ...targets.map(([a, p]) => `${a} ${p}`)]);
    const m = new Map<string, string>();
    for (const line of out.trim().split('\n')) { const [a, p, v] = line.split(' '); m.set(`${a} ${p}`, v); }
    return m;
  }

  /** Counts, in the receiving namespace before anything else sees them, forged sport-25 segments from outside. */
  forgedArrivals(to: HostName, family: 4 | 6): number {
    const h = this.hosts[to], o = this.hosts.outside;
    const dst = family === 4 ? h.v4 : h.v6, src = family === 4 ? o.v4 : o.v6;
    const ip = family === 4 ? 'ip' : 'ip6';
    this.exec(h.ns, ['nft', '-f', '-'], `table inet g3 { chain pre { type filter hook prerouting priority -300; ${ip} saddr ${src} tcp sport 25 tcp dport 40025 counter; }; }\n`);
    this.exec(o.ns, ['python3', '-c', FORGE, src, dst, '40025']);
    const listing = this.exec(h.ns, ['nft', '-j', 'list', 'table', 'inet', 'g3']);
    this.exec(h.ns, ['nft', 'delete', 'table', 'inet', 'g3']);
    const m = /"packets":\s*(\d+)/.exec(listing);
    return m ? Number(m[1]) : -1;
  }

  destroy(): void {
    for (const c of this.children) c.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) {
      try { sh(['ip', 'netns', 'del', ns]); } catch { /* already gone */ }
    }
  }
}
