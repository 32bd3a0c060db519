// The engine's own replies, in one place. Codes and enhanced codes are fixed
// (RFC 3463, RFC 4954 §6, RFC 5248); texts follow Postfix's wording so that
// operators and client logs read familiarly.
import { reply } from '../core/index.ts';
import type { Reply } from '../core/index.ts';

/** The answer to an accepted RCPT; exported for a handler's observers (submission). */
export const RCPT_OK = reply(250, '2.1.5', 'Ok');

export const R = {
  ok: reply(250, '2.0.0', 'Ok'),
  mailOk: reply(250, '2.1.0', 'Ok'),
  rcptOk: RCPT_OK,
  help: reply(214, '2.0.0', 'Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT AUTH STARTTLS'),
  bye: reply(221, '2.0.0', 'Bye'),
  startData: reply(354, undefined, 'End data with <CR><LF>.<CR><LF>'),
  readyTls: reply(220, '2.0.0', 'Ready to start TLS'),
  authOk: reply(235, '2.7.0', 'Authentication successful'),

  unknown: reply(502, '5.5.2', 'Error: command not recognized'),
  vrfyDisabled: reply(502, '5.5.1', 'VRFY command is disabled'),
  expnDisabled: reply(502, '5.5.1', 'EXPN command is disabled'),
  tooLong: reply(500, '5.5.2', 'Error: command too long'),
  badSyntax: reply(500, '5.5.2', 'Error: bad syntax'),
  bareLfCommand: reply(500, '5.5.2', 'Error: bare <LF> received'),
  needHelo: reply(503, '5.5.1', 'Error: send HELO/EHLO first'),
  needMail: reply(503, '5.5.1', 'Error: need MAIL command'),
  nestedMail: reply(503, '5.5.1', 'Error: nested MAIL command'),
  noRecipients: reply(554, '5.5.1', 'Error: no valid recipients'),
  dataAfterBdat: reply(503, '5.5.1', 'Error: DATA after BDAT'),
  rcptAfterBdat: reply(503, '5.5.1', 'Error: RCPT after BDAT'),
  tooManyRecipients: reply(452, '4.5.3', 'Error: too many recipients'),
  mustStartTls: reply(530, '5.7.0', 'Must issue a STARTTLS command first'),
  tlsActive: reply(503, '5.5.1', 'Error: TLS already active'),
  tlsUnavailable: reply(454, '4.7.0', 'TLS not available'),
  syncError: reply(554, '5.5.0', 'Error: SMTP protocol synchronization'),
  internal: reply(451, '4.3.0', 'Error: internal error'),

  badSender: reply(501, '5.1.7', 'Bad sender address syntax'),
  badRecipient: reply(501, '5.1.3', 'Bad recipient address syntax'),
  needUtf8: reply(553, '5.6.7', 'Must declare SMTPUTF8 to send unicode address'),
  sizeExceeded: reply(552, '5.3.4', 'Message size exceeds fixed limit'),
  bareLf: reply(550, '5.5.2', 'Error: bare <LF> received'),

  authBeforeHelo: reply(503, '5.5.1', 'Error: send HELO/EHLO first'),
  alreadyAuthed: reply(503, '5.5.1', 'Error: already authenticated'),
  authInTx: reply(503, '5.5.1', 'Error: MAIL transaction in progress'),
  authMechUnknown: reply(504, '5.5.4', 'Unrecognized authentication type'),
  authAborted: reply(501, '5.0.0', 'Authentication aborted'),
  authBadBase64: reply(501, '5.5.2', 'Cannot decode response'),
  authLineTooLong: reply(500, '5.5.6', 'Authentication Exchange line is too long'),
  authSyntax: reply(501, '5.5.4', 'Syntax: AUTH mechanism'),
} as const satisfies Record<string, Reply>;

export const syntax = (usage: string): Reply => reply(501, '5.5.4', `Syntax: ${usage}`);
export const badParam = (name: string): Reply => reply(501, '5.5.4', `Bad ${name} parameter syntax`);
export const unsupportedParam = (name: string): Reply => reply(555, '5.5.4', `Unsupported option: ${name}`);
export const greeting = (host: string): Reply => reply(220, undefined, `${host} ESMTP portwarden`);
export const tooManyErrors = (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many errors`);
export const timeoutExceeded = (host: string): Reply => reply(421, '4.4.2', `${host} Error: timeout exceeded`);
export const tooManyConnections = (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many connections`);
export const tooManyFromAddress = (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many connections from your address, try again later`);
export const tooManyFromNetwork = (host: string): Reply => reply(421, '4.7.0', `${host} Error: too many connections from your network, try again later`);
export const shuttingDown = (host: string): Reply => reply(421, '4.3.2', `${host} Service shutting down`);
export const chunkReceived = (n: number): Reply => reply(250, '2.0.0', `${n} octets received`);
