// What the header section says about who sent it and to whom, read with
// bounded cost: address fields are capped in size and number before any is
// parsed (issue 10 item 9), the originator fields are read strictly
// (address.ts), and To/Cc addresses are counted by one linear scan (J4).
import { isUtf8 } from 'node:buffer';
import { REPLIES, type Reply } from '../core/index.ts';
import { parseMailboxList, type MailboxListResult } from './address.ts';

/** Fields that carry addresses (RFC 5322 §3.6.2, §3.6.3, §3.6.6; the common receipt requests). */
export const ADDRESS_FIELDS = new Set([
  'from', 'sender', 'reply-to', 'to', 'cc', 'bcc',
  'resent-from', 'resent-sender', 'resent-to', 'resent-cc', 'resent-bcc',
  'disposition-notification-to', 'return-receipt-to',
]);

/**
 * The fields bound to the account, with the label used in replies. A Map, not
 * an object: field names come from the client, and `name in {}` also matches
 * Object.prototype members ("Constructor:", "__proto__:").
 */
export const ORIGINATOR_FIELDS: ReadonlyMap<string, { label: string; single: boolean }> = new Map([
  ['from', { label: 'From', single: false }],
  ['sender', { label: 'Sender', single: true }],
  ['resent-from', { label: 'Resent-From', single: false }],
  ['resent-sender', { label: 'Resent-Sender', single: true }],
]);

export interface AddressCaps {
  /** Octets of one address field, folding included. */
  maxFieldBytes: number;
  /** Address fields in the header section. */
  maxFields: number;
}

export const ADDRESS_CAPS: AddressCaps = { maxFieldBytes: 32 * 1024, maxFields: 50 };

export interface OriginatorField {
  /** 'From', 'Sender', 'Resent-From', 'Resent-Sender'. */
  field: string;
  result: MailboxListResult;
}

/** Checks the caps over fields by lower-case name; `octets` measures only the address fields. Null when within them. */
export function checkAddressCaps<F extends { lname: string }>(fields: Iterable<F>, octets: (f: F) => number, caps: AddressCaps): Reply | null {
  let n = 0;
  for (const f of fields) {
    if (!ADDRESS_FIELDS.has(f.lname)) continue;
    if (++n > caps.maxFields) return REPLIES.addressFields(caps.maxFields);
    if (octets(f) > caps.maxFieldBytes) return REPLIES.addressFieldLong(caps.maxFieldBytes);
  }
  return null;
}

/** Reads one originator field from its unfolded value as octets (a latin1 string). */
export function readOriginator(lname: string, octets: string): OriginatorField {
  const spec = ORIGINATOR_FIELDS.get(lname);
  if (!spec) throw new Error(`not an originator field: ${lname}`);
  const bytes = Buffer.from(octets, 'latin1');
  if (!isUtf8(bytes)) return { field: spec.label, result: { ok: false, why: 'invalid UTF-8' } };
  return { field: spec.label, result: parseMailboxList(bytes.toString('utf8'), { single: spec.single }) };
}

/**
 * Addresses in an address-list, for the J4 cap only: list elements that hold
 * an "@" outside quotes and comments, groups included. One pass; tolerant on
 * purpose (these fields are not bound to the account, only counted).
 */
export function countAddresses(value: string): number {
  let n = 0, depth = 0, quoted = false, angle = false, at = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '"') quoted = true;
    else if (c === '(') depth = 1;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === '@') at = true;
    else if (!angle && (c === ',' || c === ':' || c === ';')) {
      // ':' after a group's display name holds no "@", so it ends nothing countable.
      if (at) n++;
      at = false;
    }
  }
  return at ? n + 1 : n;
}
