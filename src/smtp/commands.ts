// The command table (Postfix smtpd_cmd_table): verb → handler, with the two
// properties the session needs to know about a command before running it.
import type { Session } from './session.ts';
import { abortTx } from './transaction.ts';
import { R } from './replies.ts';
import { ehlo, helo, help, noop, quit, rset, vrfy, expn } from './cmd-basic.ts';
import { starttls } from './cmd-tls.ts';
import { auth } from './cmd-auth.ts';
import { mail, rcpt } from './cmd-mail.ts';
import { data, bdat } from './cmd-data.ts';

export interface Command {
  run(s: Session, arg: string): void | Promise<void>;
  /** Allowed before STARTTLS on a requireTls listener (RFC 3207 §4, REQUIREMENTS C2). */
  beforeTls?: boolean;
  /** Ends a pipelining group: the client must wait for the reply (RFC 2920 §3.1). */
  groupEnd?: boolean;
}

const TABLE: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['EHLO', { run: ehlo, beforeTls: true, groupEnd: true }],
  ['HELO', { run: helo, beforeTls: true, groupEnd: true }],
  ['STARTTLS', { run: starttls, beforeTls: true }],
  ['NOOP', { run: noop, beforeTls: true, groupEnd: true }],
  ['RSET', { run: rset, beforeTls: true }],
  ['QUIT', { run: quit, beforeTls: true, groupEnd: true }],
  ['AUTH', { run: auth, groupEnd: true }],
  ['MAIL', { run: mail }],
  ['RCPT', { run: rcpt }],
  ['DATA', { run: data, groupEnd: true }],
  ['BDAT', { run: bdat }],
  ['HELP', { run: help }],
  ['VRFY', { run: vrfy, groupEnd: true }],
  ['EXPN', { run: expn, groupEnd: true }],
]);

export async function dispatch(s: Session, text: string): Promise<void> {
  const sp = text.indexOf(' ');
  const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
  const arg = sp < 0 ? '' : text.slice(sp + 1);
  // Never log what follows AUTH <mech>: it may be a credential.
  s.log.debug({ cmd: verb, arg: verb === 'AUTH' ? arg.split(' ')[0] : arg.slice(0, 256) }, 'command');
  const cmd = TABLE.get(verb);
  if (!cmd || (verb === 'BDAT' && !s.opts.chunking)) {
    s.sendError(R.unknown, 'unknown command');
    return;
  }
  if (s.tx?.failed && verb !== 'BDAT') abortTx(s, 'BDAT transaction failed');
  if (s.opts.requireTls && !s.tlsActive && !cmd.beforeTls) {
    // A refused BDAT still owns the octets that follow it.
    if (verb === 'BDAT') await bdat(s, arg, R.mustStartTls);
    else s.sendError(R.mustStartTls, 'command before STARTTLS');
    return;
  }
  s.groupEnd = cmd.groupEnd ?? false;
  await cmd.run(s, arg);
}
