// The small adapters between the parts `start` wires: the MSA's ports over the
// account store, the spool and the message fixer; the engine's listener options
// and the relay's route from the config.
import { readFileSync } from 'node:fs';
import { systemClock } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import type { AccountStore } from '../auth/index.ts';
import { MessageFixer, buildReceived, protocolName } from '../message/index.ts';
import type { Spool } from '../spool/index.ts';
import type { RelayRoute } from '../relay/index.ts';
import { defaultListenerOptions } from '../smtp/index.ts';
import type { AccountsPort, FixerPort, SpoolPort } from '../submission/index.ts';

function parseHostPort(hp: string, tls: 'none' | 'opportunistic' | 'required', verify: boolean, user?: string, pass?: string) {
  return { ...splitHostPort(hp), tls, rejectUnauthorized: verify, auth: user && pass ? { user, pass } : undefined };
}

export function accountsPort(accounts: AccountStore): AccountsPort {
  return {
    async get(login) {
      const a = await accounts.get(login);
      return a ? { login: a.login, subscriber: a.subscriber, status: a.status, tier: a.tier } : null;
    },
    mayUseAddress: (login, address) => accounts.mayUseAddress(login, address),
  };
}

export function spoolPort(spool: Spool): SpoolPort {
  return {
    create(env) {
      const p = env.mailFrom.params;
      return spool.create({
        mailFrom: { address: env.mailFrom.address, ret: p.ret, envid: p.envid, smtputf8: p.smtputf8, body: p.body, size: p.size },
        recipients: env.rcptTo.map((r) => ({ address: r.address, notify: r.params.notify, orcpt: r.params.orcpt })),
        account: env.account ?? undefined,
        identity: env.subscriber ?? undefined,
        client: { ip: env.client.ip, port: env.client.port },
        canonical: true, // the MessageFixer's output: CRLF only (a stray CR or LF became a space)
        attributes: {
          listener: env.client.listener,
          ...(env.client.helo ? { helo: env.client.helo } : {}),
          ...(env.client.tls ? { tls: env.client.tls } : {}),
          ...(env.client.mechanism ? { mechanism: env.client.mechanism } : {}),
          ...(env.originalSender !== undefined ? { originalSender: env.originalSender } : {}),
        },
      });
    },
  };
}

export function fixerPort(cfg: Config): FixerPort {
  const sub = cfg.submission;
  const options = {
    hostname: cfg.hostname, malformedHeaderAction: sub.malformedHeaderAction, clock: systemClock,
    maxReceived: sub.maxReceived, maxAddressFieldBytes: sub.maxAddressFieldBytes, maxAddressFields: sub.maxAddressFields,
  };
  return {
    create: (input) => new MessageFixer(options, { received: input.received, queueId: input.queueId, smtputf8: input.smtputf8 }),
    received: (input) => buildReceived(input),
    protocolName: (flags) => protocolName(flags),
  };
}

/** The relay's next hop: the smarthost (with its TLS and AUTH settings) or direct MX delivery. */
export function relayRoute(cfg: Config): RelayRoute {
  const r = cfg.relay;
  return r.mode === 'mx'
    ? { kind: 'mx', perDomain: r.perDomain, tls: r.tls === 'none' ? 'none' : 'opportunistic', allowPrivate: r.allowPrivateDestinations }
    : { kind: 'smarthost', ...parseHostPort(r.smarthost!, r.tls, r.verifyCertificate, r.user, r.password), ...(r.caFile ? { ca: readFileSync(r.caFile, 'utf8') } : {}) };
}

/** The engine's options for each configured listener. */
export function listenerOptions(cfg: Config): ReturnType<typeof defaultListenerOptions>[] {
  return cfg.listeners.map((l) => defaultListenerOptions({
    name: l.name, host: l.host, port: l.port, hostname: cfg.hostname, tls: l.tls,
    requireTls: l.requireTls ?? l.tls === 'starttls', authRequiresTls: true, bareLf: l.bareLf, forbidUnauthPipelining: false,
    maxConnections: l.maxConnections, maxConnectionsPerIp: l.maxConnectionsPerIp, maxConnectionsPerNetwork: l.maxConnectionsPerNetwork,
    ipv4NetworkPrefix: l.ipv4NetworkPrefix, ipv6NetworkPrefix: l.ipv6NetworkPrefix,
    maxMessageSize: cfg.smtp.maxMessageSize, maxRecipients: cfg.smtp.maxRecipients, idleTimeout: cfg.smtp.idleTimeout,
    maxSessionTime: cfg.smtp.maxSessionTime, preAuthIdleTimeout: cfg.smtp.preAuthIdleTimeout, preAuthSessionTime: cfg.smtp.preAuthSessionTime,
    maxReplyBacklog: cfg.smtp.maxReplyBacklog, maxErrors: cfg.smtp.maxErrors, smtputf8: cfg.smtp.smtputf8, chunking: cfg.smtp.chunking,
  }));
}
