// Parses a captured DSN with an independent MIME parser (Python's email
// package), so the tests do not check our output with our own assumptions.
import { execFileSync } from 'node:child_process';

export interface ParsedPart {
  type: string;
  headers: Record<string, string>;
  /** message/delivery-status: the per-message group, then one per recipient. */
  groups?: Array<Record<string, string>>;
  /** message/rfc822: the enclosed message. */
  inner?: { headers: Record<string, string>; body: string };
  text?: string;
}

export interface ParsedReport {
  headers: Record<string, string>;
  type: string;
  params: Record<string, string>;
  parts: ParsedPart[];
  defects: string[];
}

const SCRIPT = `
import sys, json, email
from email import policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.compat32)
# compat32 hands non-ASCII values back as Header objects: their str() is the text.
def items(x): return {k: str(v) for k, v in x.items()}
defects = [str(d) for d in m.defects]
out = {'headers': items(m), 'type': m.get_content_type(), 'params': {k.lower(): v for k, v in m.get_params()}, 'parts': []}
for p in (m.get_payload() if m.is_multipart() else []):
    defects += [str(d) for d in p.defects]
    ct = p.get_content_type()
    d = {'type': ct, 'headers': items(p)}
    if ct == 'message/delivery-status':
        d['groups'] = [items(g) for g in p.get_payload()]
    elif ct == 'message/global-delivery-status':
        # RFC 6533: not special to the parser; its blocks are header sections separated by empty lines.
        pl = p.get_payload()
        text = pl[0].as_string() if isinstance(pl, list) else pl
        d['groups'] = [items(email.message_from_string(g.strip('\\r\\n') + '\\n', policy=policy.compat32)) for g in text.replace('\\r\\n', '\\n').split('\\n\\n') if g.strip()]
    elif ct in ('message/rfc822', 'message/global') and isinstance(p.get_payload(), list):
        inner = p.get_payload(0)
        d['inner'] = {'headers': items(inner), 'body': inner.get_payload()}
    else:
        d['text'] = p.get_payload()
    out['parts'].append(d)
out['defects'] = defects
print(json.dumps(out))
`;

/** DATA bytes as a sink captured them (dot-stuffed) → the message. */
export function unstuff(data: Buffer): Buffer {
  return Buffer.from(data.toString('latin1').replace(/(^|\r\n)\./g, '$1'), 'latin1');
}

export function parseReport(data: Buffer): ParsedReport {
  const json = execFileSync('python3', ['-c', SCRIPT], { input: unstuff(data) });
  return JSON.parse(json.toString('utf8')) as ParsedReport;
}
