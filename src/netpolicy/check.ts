// What an edge agent pulled, checked field by field before any nft text is
// built from it. The server compiled it from a validated store, but the agent
// trusts no byte of it: a compromised or impersonated server, a proxy or a bug
// must not be able to write nft syntax (an interface name is quoted into rules,
// elements and ports are written bare). The same validators as policy input
// (model.ts) decide; the hashes are recomputed, because the applier's delta
// path trusts "equal shape = only elements differ".
import { policyHashes, SET_NAMES, type CompiledGarden, type CompiledPolicy, type SetName } from './compile.ts';
import { formatAll } from './format.ts';
import { ACTIONS, GARDEN_PROTOS, checkIface, checkNotice, checkPorts, checkPrefix, fail, isObj, isOneOf, ok, type EdgeSettings, type Result } from './model.ts';
import { parseRange } from './prefix.ts';
import { compare, newScratch, parseWords, stride } from './words.ts';

const MAX_IFACES = 256;
const MAX_GARDEN = 10_000;
const HASH = /^[0-9a-f]{32}$/;

/** A value for an error message: JSON-encoded (no control byte survives), and short. */
const show = (v: unknown): string => {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
};

function checkSettings(v: unknown): Result<EdgeSettings> {
  if (!isObj(v)) return fail('settings: not an object');
  const ifaces = (key: 'subscriberIfaces' | 'upstreamIfaces'): Result<string[]> => {
    const list = v[key];
    if (!Array.isArray(list) || list.length > MAX_IFACES) return fail(`settings.${key}: not a list of at most ${MAX_IFACES} names`);
    for (const n of list) {
      if (typeof n !== 'string') return fail(`settings.${key}: ${show(n)} is not a name`);
      const r = checkIface(n);
      if (!r.ok) return fail(`settings.${key}: ${r.error}`);
    }
    return ok(list as string[]);
  };
  const sub = ifaces('subscriberIfaces');
  if (!sub.ok) return sub;
  const up = ifaces('upstreamIfaces');
  if (!up.ok) return up;
  const action = v.action;
  if (typeof action !== 'string' || !isOneOf(ACTIONS, action)) return fail(`settings.action: ${show(action)} is not one of ${ACTIONS.join(', ')}`);
  if (typeof v.relay25 !== 'boolean') return fail(`settings.relay25: ${show(v.relay25)} is not true or false`);
  const out: EdgeSettings = { subscriberIfaces: sub.value, upstreamIfaces: up.value, action, relay25: v.relay25 };
  // A notice address is written bare into a dnat rule: only its canonical text passes.
  for (const f of [4, 6] as const) {
    const key = `notice${f}` as const, n = v[key];
    if (n === undefined) continue;
    const r = typeof n === 'string' ? checkNotice(n, f) : fail(`${show(n)} is not an address`);
    if (!r.ok) return fail(`settings.${key}: ${r.error}`);
    if (r.value !== n) return fail(`settings.${key}: ${show(n)} is not in canonical form`);
    out[key] = r.value;
  }
  return ok(out);
}

function checkGarden(v: unknown): Result<CompiledGarden[]> {
  if (!Array.isArray(v) || v.length > MAX_GARDEN) return fail(`garden: not a list of at most ${MAX_GARDEN} entries`);
  const out: CompiledGarden[] = [];
  for (const [i, g] of v.entries()) {
    if (!isObj(g)) return fail(`garden[${i}]: not an object`);
    const where = `garden[${i}]`;
    if (typeof g.prefix !== 'string') return fail(`${where}.prefix: ${show(g.prefix)} is not a prefix`);
    const p = checkPrefix(g.prefix);
    if (!p.ok) return fail(`${where}.prefix: ${p.error}`);
    const r = parseRange(g.prefix)!;
    if (g.family !== r.family) return fail(`${where}.family: ${show(g.family)} does not match ${show(g.prefix)}`);
    if (p.value !== g.prefix) return fail(`${where}.prefix: ${show(g.prefix)} is not in canonical form`);
    if (typeof g.proto !== 'string' || !isOneOf(GARDEN_PROTOS, g.proto)) return fail(`${where}.proto: ${show(g.proto)} is not one of ${GARDEN_PROTOS.join(', ')}`);
    if (typeof g.ports !== 'string') return fail(`${where}.ports: ${show(g.ports)} is not a port list`);
    const ports = checkPorts(g.ports);
    if (!ports.ok) return fail(`${where}.ports: ${ports.error}`);
    if (ports.value !== g.ports) return fail(`${where}.ports: ${show(g.ports)} is not in canonical form`);
    out.push({ family: r.family, prefix: g.prefix, proto: g.proto, ports: g.ports });
  }
  return ok(out);
}

const sameList = (a: readonly string[], b: readonly unknown[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * Each set: element texts of its family, canonical, ascending and disjoint (nft refuses overlapping
 * intervals). A set equal to one already enforced passed these checks then and is not checked again:
 * with a million elements the checks cost ~0.7 s, and most pulls change one set.
 */
function checkSets(v: unknown, enforced?: Record<string, readonly string[]>): Result<Record<SetName, string[]>> {
  if (!isObj(v)) return fail('sets: not an object');
  const out = {} as Record<SetName, string[]>;
  const s = newScratch();
  for (const name of SET_NAMES) {
    const items = v[name];
    if (!Array.isArray(items)) return fail(`sets.${name}: not a list`);
    if (enforced?.[name] && sameList(enforced[name], items)) { out[name] = items as string[]; continue; }
    const family = name.endsWith('4') ? 4 : 6;
    const w = stride(family);
    const lo = new Uint32Array(items.length * w), hi = new Uint32Array(items.length * w);
    for (let i = 0; i < items.length; i++) {
      const e: unknown = items[i];
      if (typeof e !== 'string' || parseWords(e, s) !== family) return fail(`sets.${name}[${i}]: ${show(e)} is not an IPv${family} address, prefix or range`);
      for (let k = 0; k < w; k++) { lo[i * w + k] = s[k]; hi[i * w + k] = s[4 + k]; }
      if (i > 0 && compare(lo, i * w, hi, (i - 1) * w, w) <= 0) return fail(`sets.${name}[${i}]: ${show(e)} overlaps or precedes the element before it`);
    }
    // Canonical text: what the compiler itself writes for these ranges (one batch, as it does).
    const texts = formatAll({ family, n: items.length, lo, hi });
    for (let i = 0; i < items.length; i++) {
      if (texts[i] !== items[i]) return fail(`sets.${name}[${i}]: ${show(items[i])} is not in canonical form (${texts[i]})`);
    }
    out[name] = items as string[];
  }
  return ok(out);
}

/**
 * The policy as the agent will apply it, rebuilt from checked fields only; or what is wrong with it.
 * `enforced` is the policy the edge runs (it passed these checks when it was pulled).
 */
export function checkCompiled(v: unknown, enforced?: CompiledPolicy | null): Result<CompiledPolicy> {
  if (!isObj(v)) return fail('policy: not a JSON object');
  if (v.format !== 'portwarden-netpolicy/1') return fail(`format: unknown policy format ${show(v.format)}`);
  for (const k of ['version', 'shape'] as const) {
    if (typeof v[k] !== 'string' || !HASH.test(v[k])) return fail(`${k}: ${show(v[k])} is not a policy hash`);
  }
  const revision = v.revision;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) return fail(`revision: ${show(revision)} is not a non-negative integer`);
  if (enforced && revision < enforced.revision) {
    return fail(`revision: ${revision} is older than the enforced ${enforced.revision} (a replayed or rolled-back policy; restart the agent to accept a server restored from a backup)`);
  }
  const settings = checkSettings(v.settings);
  if (!settings.ok) return settings;
  const garden = checkGarden(v.garden);
  if (!garden.ok) return garden;
  const sets = checkSets(v.sets, enforced?.sets);
  if (!sets.ok) return sets;
  const h = policyHashes(settings.value, garden.value, sets.value);
  if (h.shape !== v.shape) return fail(`shape: ${show(v.shape)} does not match the settings and garden (${h.shape})`);
  if (h.version !== v.version) return fail(`version: ${show(v.version)} does not match the content (${h.version})`);
  return ok({ format: 'portwarden-netpolicy/1', version: h.version, revision, shape: h.shape, settings: settings.value, garden: garden.value, sets: sets.value });
}
