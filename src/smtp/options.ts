// Listener defaults modelled on Postfix's (smtpd_* parameters, 3.9 era).
import { hostname } from 'node:os';
import type { ListenerOptions } from './types.ts';

export function defaultListenerOptions(partial: Partial<ListenerOptions> = {}): ListenerOptions {
  const tls = partial.tls ?? 'none';
  const idleTimeout = partial.idleTimeout ?? 300;
  const maxSessionTime = partial.maxSessionTime ?? 3600;
  return {
    name: 'smtp',
    host: '127.0.0.1',
    port: tls === 'implicit' ? 465 : 25,
    hostname: hostname(),
    tls,
    requireTls: false,
    authRequiresTls: true, // smtpd_tls_auth_only
    bareLf: 'normalize', // smtpd_forbid_bare_newline
    forbidUnauthPipelining: true, // smtpd_forbid_unauth_pipelining
    maxMessageSize: 10_240_000, // message_size_limit
    maxRecipients: 1000, // smtpd_recipient_limit
    smtputf8: true, // smtputf8_enable
    chunking: true,
    idleTimeout, // smtpd_timeout
    maxSessionTime,
    // The engine also serves listeners without AUTH (a relay port): no shorter pre-AUTH timers unless asked.
    preAuthIdleTimeout: idleTimeout,
    preAuthSessionTime: maxSessionTime,
    tlsHandshakeTimeout: 60,
    maxErrors: 20, // smtpd_hard_error_limit
    maxConnections: 10_000,
    maxConnectionsPerIp: 50, // smtpd_client_connection_count_limit
    maxConnectionsPerNetwork: 250,
    ipv4NetworkPrefix: 24,
    ipv6NetworkPrefix: 64, // one subscriber's LAN (RFC 6177)
    maxCommandLine: 512, // RFC 5321 §4.5.3.1.4
    maxAuthLine: 12_288, // RFC 4954 §4
    maxReplyBacklog: 128 * 1024, // far above any honest pipelining group (RFC 2920)
    ...partial,
  };
}
