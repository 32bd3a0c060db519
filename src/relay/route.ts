// Where a message's recipients go: a route splits them into destinations (one
// SMTP transaction each) and opens a connection to a destination. Smarthost
// mode has one destination for everything; MX mode one per recipient domain.
import { REPLIES, replyLine, type Logger } from '../core/index.ts';
import type { Envelope } from '../spool/index.ts';
import type { Client, ClientTimeouts, SmarthostOptions } from './client.ts';
import { ClientError, connectClient } from './client.ts';

export interface Destination { key: string; indices: number[] }

export type Connected =
  | { ok: true; client: Client; remote: string }
  /** The reply every recipient of the destination gets for this attempt (4xx: try later, 5xx: give up). */
  | { ok: false; reply: string };

export interface Route {
  /** Transactions in flight per destination at once. */
  readonly limit: number;
  split(env: Envelope, indices: number[]): Destination[];
  connect(key: string): Promise<Connected>;
}

export class SmarthostRoute implements Route {
  readonly limit = Infinity; // the relay's message concurrency bounds it
  private readonly host: SmarthostOptions;
  private readonly ehloName: string;
  private readonly timeouts: ClientTimeouts;
  private readonly logger: Logger;

  constructor(host: SmarthostOptions, ehloName: string, timeouts: ClientTimeouts, logger: Logger) {
    this.host = host;
    this.ehloName = ehloName;
    this.timeouts = timeouts;
    this.logger = logger;
  }

  split(_env: Envelope, indices: number[]): Destination[] {
    return indices.length ? [{ key: 'smarthost', indices }] : [];
  }

  async connect(): Promise<Connected> {
    try {
      return { ok: true, client: await connectClient(this.host, this.ehloName, this.timeouts), remote: this.host.host };
    } catch (err) {
      const hop = `${this.host.host}:${this.host.port}`;
      if (err instanceof ClientError && err.credentialsWithheld) {
        // Deferred, not bounced: a certificate that is renewed or a CA that is configured lets the queue go on.
        this.logger.error({ event: 'credentials-withheld', hop, reason: (err as Error).message }, 'relay credentials not sent: TLS to the next hop is not verified; mail stays queued');
        return { ok: false, reply: replyLine(REPLIES.relayCredentials(hop, (err as Error).message)) };
      }
      return { ok: false, reply: replyLine(REPLIES.relayUnreachable(hop, (err as Error).message)) };
    }
  }
}
