// A session's clocks: an idle timeout and a whole-session limit. Until AUTH
// succeeds the pre-AUTH pair runs, which can be set shorter so that a client
// that never logs in does not hold a connection slot for long.
import type { Session } from './session.ts';
import { timeoutExceeded } from './replies.ts';

export class SessionTimers {
  private readonly s: Session;
  private idleTimer: NodeJS.Timeout;
  private sessionTimer: NodeJS.Timeout;
  /** The post-AUTH timers run (set once, by the first successful AUTH). */
  private authed = false;

  constructor(s: Session) {
    this.s = s;
    this.idleTimer = setTimeout(() => this.onIdle(), s.opts.preAuthIdleTimeout * 1000).unref();
    this.sessionTimer = setTimeout(() => this.onSessionTimeout(), s.opts.preAuthSessionTime * 1000).unref();
  }

  /** Client activity, or a reply handed to the socket: restarts the idle timer. */
  touch(): void {
    this.idleTimer.refresh();
  }

  authenticated(): void {
    // Once per session: after a later STARTTLS forgets the identity the longer timers stay.
    if (this.authed) return;
    this.authed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.sessionTimer);
    this.idleTimer = setTimeout(() => this.onIdle(), this.s.opts.idleTimeout * 1000).unref();
    const left = this.s.opts.maxSessionTime * 1000 - (Date.now() - this.s.info.startedAt);
    this.sessionTimer = setTimeout(() => this.onSessionTimeout(), Math.max(0, left)).unref();
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.sessionTimer);
  }

  private onIdle(): void {
    const s = this.s;
    if (s.closed) return;
    if (s.output.blocked) {
      // A 421 would only join the replies it does not read.
      s.warn({ backlog: s.socket.writableLength, bytesIn: s.socket.bytesRead }, 'replies not read');
      s.socket.destroy();
      return;
    }
    // Time spent on a handler or a slow body consumer is ours, not the client's.
    if (!s.waitingForClient) {
      this.idleTimer.refresh();
      return;
    }
    this.expire('idle timeout');
  }

  private onSessionTimeout(): void {
    if (this.s.closed) return;
    this.expire('session time limit');
  }

  private expire(why: string): void {
    const s = this.s;
    s.warn({}, why);
    if (s.mode === 'tls' || s.mode === 'greeting') s.socket.destroy();
    else s.close(timeoutExceeded(s.opts.hostname));
  }
}
