// An independent RFC 5322 reader for tests: Python's `email` package with
// policy.default, fed many messages or header values in one python3 process
// (one start-up, ~40 ms, instead of one per case).
import { spawnSync } from 'node:child_process';

const READ_MESSAGES = String.raw`
import sys, json, base64
from email import policy
from email.parser import BytesParser
out = []
for b in json.load(sys.stdin):
    raw = base64.b64decode(b)
    m = BytesParser(policy=policy.default).parsebytes(raw)
    fields = []
    for name, value in m.raw_items():
        try:
            v = str(m.policy.header_fetch_parse(name, value))
        except Exception as e:
            v = '!error ' + repr(e)
        fields.append([name, v])
    out.append({'fields': fields, 'defects': [type(d).__name__ for d in m.defects]})
json.dump(out, sys.stdout)
`;

const READ_ADDRESSES = String.raw`
import sys, json
from email import policy
from email.headerregistry import HeaderRegistry
from email.utils import getaddresses
reg = HeaderRegistry()
out = []
for name, value in json.load(sys.stdin):
    r = {}
    try:
        h = reg(name, value)
        r['registry'] = [a.addr_spec for a in h.addresses]
        r['defects'] = [type(d).__name__ for d in h.defects]
    except Exception as e:
        r['registry'] = None
        r['error'] = repr(e)
    try:
        r['utils'] = [a for _, a in getaddresses([value])]
    except Exception as e:
        r['utils'] = None
    try:
        r['utils_lax'] = [a for _, a in getaddresses([value], strict=False)]
    except TypeError:
        r['utils_lax'] = r['utils']
    except Exception:
        r['utils_lax'] = None
    out.append(r)
json.dump(out, sys.stdout)
`;

function python<T>(script: string, input: unknown): T {
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface PyMessage {
  /** [name, decoded value] in order, as policy.default reads each field. */
  fields: Array<[string, string]>;
  defects: string[];
}

/** Parses whole messages (raw bytes) with BytesParser(policy=policy.default). */
export function pyReadMessages(raws: Buffer[]): PyMessage[] {
  return python<PyMessage[]>(READ_MESSAGES, raws.map((b) => b.toString('base64')));
}

export interface PyAddresses {
  /** addr_specs per email.headerregistry (null when it raised). */
  registry: string[] | null;
  defects?: string[];
  error?: string;
  /** addr_specs per email.utils.getaddresses (strict, the 3.11.x+ default where it exists). */
  utils: string[] | null;
  /** The same without the strict mode (older Pythons' behaviour). */
  utils_lax: string[] | null;
}

/** Reads [field name, unfolded value] pairs with both Python address parsers. */
export function pyReadAddresses(fields: Array<[string, string]>): PyAddresses[] {
  return python<PyAddresses[]>(READ_ADDRESSES, fields);
}
