// One reply type for every SMTP answer portwarden gives. Texts are written for
// the client: vague on purpose about internals (RFC 6409 §7: do not expose more
// detail to unauthenticated senders than is needed); details go to the log.

export type ReplyCode = number;

export interface Reply {
  code: ReplyCode;
  /** RFC 3463 enhanced status code, e.g. "5.7.1"; omitted for 220/221-style greetings when not wanted. */
  enhanced?: string;
  /** One or more lines of text; multiline replies use "code-" continuation. */
  text: string | readonly string[];
}

export function reply(code: ReplyCode, enhanced: string | undefined, text: string | readonly string[]): Reply {
  return enhanced === undefined ? { code, text } : { code, enhanced, text };
}

/** Wire form of a reply, CRLF-terminated, with "code-" on every line but the last. */
export function formatReply(r: Reply): string {
  const lines = typeof r.text === 'string' ? [r.text] : r.text.length ? r.text : [''];
  const prefix = r.enhanced ? `${r.enhanced} ` : '';
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const sep = i === lines.length - 1 ? ' ' : '-';
    out += `${r.code}${sep}${prefix}${lines[i]}\r\n`;
  }
  return out;
}

export const isPositive = (r: Reply): boolean => r.code < 400;
export const isTransient = (r: Reply): boolean => r.code >= 400 && r.code < 500;
export const isPermanent = (r: Reply): boolean => r.code >= 500;
