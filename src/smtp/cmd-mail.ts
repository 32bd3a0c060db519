// MAIL and RCPT (RFC 5321 §4.1.1.2–3) with their ESMTP parameters:
// SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT
// (RFC 3461), AUTH= (RFC 4954 §5).
import type { Reply } from '../core/index.ts';
import type { Session } from './session.ts';
import { beginTx } from './transaction.ts';
import type { MailFromParams, RcptToParams } from './types.ts';
import { R, badParam, syntax, unsupportedParam } from './replies.ts';
import { decodeXtext, parsePath, splitParams } from './address.ts';
import type { ParamList } from './address.ts';

const ADDR_TYPE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const NOTIFY_ITEMS = new Set(['SUCCESS', 'FAILURE', 'DELAY']);

function mailParams(s: Session, list: ParamList): MailFromParams | Reply {
  const p: MailFromParams = {};
  const seen = new Set<string>();
  for (const { key, value, raw } of list) {
    if (seen.has(key)) return badParam(key);
    seen.add(key);
    switch (key) {
      case 'SIZE':
        if (value === null || !/^\d{1,20}$/.test(value)) return badParam('SIZE');
        p.size = Number(value);
        if (p.size > s.opts.maxMessageSize) return R.sizeExceeded;
        break;
      case 'BODY': {
        const v = value?.toUpperCase();
        if (v !== '7BIT' && v !== '8BITMIME') return badParam('BODY');
        p.body = v;
        break;
      }
      case 'SMTPUTF8':
        if (!s.opts.smtputf8) return unsupportedParam(raw);
        if (value !== null) return badParam('SMTPUTF8');
        p.smtputf8 = true;
        break;
      case 'RET': {
        const v = value?.toUpperCase();
        if (v !== 'FULL' && v !== 'HDRS') return badParam('RET');
        p.ret = v;
        break;
      }
      case 'ENVID': {
        const v = value === null ? null : decodeXtext(value);
        if (v === null || v.length === 0 || v.length > 100) return badParam('ENVID');
        p.envid = v;
        break;
      }
      case 'AUTH': {
        const v = value === '<>' ? '<>' : value === null ? null : decodeXtext(value);
        if (v === null || v.length === 0) return badParam('AUTH');
        p.auth = v;
        break;
      }
      default:
        return unsupportedParam(raw);
    }
  }
  return p;
}

function rcptParams(list: ParamList): RcptToParams | Reply {
  const p: RcptToParams = {};
  const seen = new Set<string>();
  for (const { key, value, raw } of list) {
    if (seen.has(key)) return badParam(key);
    seen.add(key);
    if (key === 'NOTIFY') {
      const items = (value ?? '').toUpperCase().split(',');
      const never = items.length === 1 && items[0] === 'NEVER';
      if (!never && (!items.every((i) => NOTIFY_ITEMS.has(i)) || new Set(items).size !== items.length)) return badParam('NOTIFY');
      p.notify = items as RcptToParams['notify'];
    } else if (key === 'ORCPT') {
      const semi = value?.indexOf(';') ?? -1;
      const type = semi > 0 ? value!.slice(0, semi) : '';
      const addr = semi > 0 ? decodeXtext(value!.slice(semi + 1)) : null;
      if (!ADDR_TYPE.test(type) || !addr) return badParam('ORCPT');
      p.orcpt = `${type};${addr}`;
    } else {
      return unsupportedParam(raw);
    }
  }
  return p;
}

const isReply = (x: object): x is Reply => 'code' in x;

export async function mail(s: Session, arg: string): Promise<void> {
  if (!s.info.helo) return s.sendError(R.needHelo, 'MAIL before HELO');
  if (s.tx) return s.sendError(R.nestedMail, 'nested MAIL');
  if (!/^FROM:/i.test(arg)) return s.sendError(syntax('MAIL FROM:<address>'), 'MAIL syntax');
  const path = parsePath(arg.slice(5), 'mail');
  if (!path.ok) return s.sendError(R.badSender, 'bad sender syntax');
  const split = splitParams(path.params);
  if ('bad' in split) return s.sendError(unsupportedParam(split.bad), 'bad MAIL parameter');
  const params = mailParams(s, split.params);
  if (isReply(params)) return s.sendError(params, 'bad MAIL parameter');
  if (path.address.utf8 && !params.smtputf8) return s.sendError(R.needUtf8, 'unicode sender without SMTPUTF8');
  const from = { ...path.address, params };
  const v = await s.ask('mailFrom', () => s.handler.mailFrom(s.info, from));
  if (v === null || s.closed) return;
  if (!v.ok) return s.refuse(v);
  beginTx(s, from);
  s.send(v.reply ?? R.mailOk);
}

export async function rcpt(s: Session, arg: string): Promise<void> {
  const tx = s.tx;
  if (!tx) return s.sendError(R.needMail, 'RCPT without MAIL');
  if (!/^TO:/i.test(arg)) return s.sendError(syntax('RCPT TO:<address>'), 'RCPT syntax');
  const path = parsePath(arg.slice(3), 'rcpt');
  if (!path.ok) return s.sendError(R.badRecipient, 'bad recipient syntax');
  const split = splitParams(path.params);
  if ('bad' in split) return s.sendError(unsupportedParam(split.bad), 'bad RCPT parameter');
  const params = rcptParams(split.params);
  if (isReply(params)) return s.sendError(params, 'bad RCPT parameter');
  if (path.address.utf8 && !tx.view.mailFrom.params.smtputf8) return s.sendError(R.needUtf8, 'unicode recipient without SMTPUTF8');
  if (tx.view.bodyMode !== null) return s.sendError(R.rcptAfterBdat, 'RCPT after BDAT');
  if (tx.view.rcptTo.length >= s.opts.maxRecipients) return s.send(R.tooManyRecipients);
  const to = { ...path.address, params };
  const v = await s.ask('rcptTo', () => s.handler.rcptTo(s.info, tx.view, to));
  if (v === null || s.closed || s.tx !== tx) return;
  if (!v.ok) return s.refuse(v);
  tx.view.rcptTo.push(to);
  s.send(v.reply ?? R.rcptOk);
}
