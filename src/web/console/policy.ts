// /policy: the port-25 network policy's entries — address pools, relays,
// exemptions, quarantines and walled-garden destinations — each listed
// (policy.KIND.list), added and removed (policy.KIND.add / .remove, the
// quarantine's .release) through the generic entry operations, every change
// with its reason (the policy store requires one). The choices of a select
// (pool classes, relay kinds, protocols) are read from the operation's schema.
import type { FastifyInstance } from 'fastify';
import { html, type Html } from '../html.ts';
import type { ConsoleDeps } from '../types.ts';
import { field, getPage, given, postAction, postForm, reasonOf, run, say, shell, table, timeField, when, type FieldOpts, type Form, type View } from './kit.ts';
import { COMMON, POLICY as T } from './texts.ts';

type Kind = keyof typeof T.kinds;
type Item = Record<string, string | number | null>;

interface KindSpec {
  /** The item's columns, in the order of the texts' heads. */
  columns: (i: Item) => Array<string | number>;
  /** The add form's fields besides prefix and reason. */
  fields: Array<[string, FieldOpts]>;
  removeOp: string;
}

const SPECS: Record<Kind, KindSpec> = {
  pools: { columns: (i) => [s(i.prefix), s(i.class), s(i.note)], fields: [['class', { required: true }], ['note', {}]], removeOp: 'policy.pools.remove' },
  relays: { columns: (i) => [s(i.prefix), s(i.kind), s(i.customer), s(i.note)], fields: [['kind', {}], ['customer', {}], ['note', {}]], removeOp: 'policy.relays.remove' },
  exemptions: {
    columns: (i) => [s(i.prefix), s(i.customer), s(i.reason), s(i.grantedBy), when(i.grantedAt as number), i.expiresAt === null ? COMMON.never : when(i.expiresAt as number)],
    fields: [['customer', { required: true }], ['expiresAt', { type: 'datetime-local', hint: T.expiresHint }]], removeOp: 'policy.exemptions.remove',
  },
  quarantine: { columns: (i) => [s(i.prefix), s(i.subscriber), s(i.caseId), s(i.reason), when(i.since as number), s(i.by)], fields: [['subscriber', { required: true }], ['case', {}]], removeOp: 'policy.quarantine.release' },
  garden: { columns: (i) => [s(i.prefix), s(i.proto), s(i.ports), s(i.note)], fields: [['proto', {}], ['ports', { required: true }], ['note', {}]], removeOp: 'policy.garden.remove' },
};
const KINDS = Object.keys(SPECS) as Kind[];
const s = (x: unknown): string => (x === null || x === undefined ? '' : String(x));

/** The values a field of an operation's input may take (its schema's enum), for a select. */
export function choices(deps: ConsoleDeps, op: string, name: string): ReadonlyArray<readonly [string, string]> | undefined {
  const props = (deps.operations.get(op)?.input as { properties?: Record<string, { enum?: unknown[]; anyOf?: Array<{ const?: unknown }> }> })?.properties;
  const p = props?.[name];
  const list = p?.enum ?? p?.anyOf?.map((x) => x.const);
  return list?.filter((x): x is string => typeof x === 'string').map((x) => [x, x] as const);
}

function kindSection(v: View, kind: Kind, items: Item[]): Html {
  const spec = SPECS[kind], t = T.kinds[kind];
  const remove = spec.removeOp.endsWith('.release') ? T.release : T.remove;
  const failure = v.failure?.form === `remove-${kind}` ? html`<p class="error" role="alert">${say(v.failure.error, v.me.role, spec.removeOp)}</p>` : '';
  const rows = items.map((i) => [...spec.columns(i), postForm(`remove-${kind}-${s(i.prefix)}`, `/policy/${kind}/remove`, v,
    html`<input type="hidden" name="prefix" value="${s(i.prefix)}"><label for="why-${kind}-${s(i.prefix)}">${COMMON.reason}</label>
<input id="why-${kind}-${s(i.prefix)}" name="reason" required>`, remove, { inline: true, secondary: true })]);
  const form = `add-${kind}`;
  const opts = (name: string, o: FieldOpts): FieldOpts => {
    const c = choices(v.deps, `policy.${kind}.add`, name);
    return c ? { ...o, options: o.required ? c : [['', '—'], ...c] } : o;
  };
  return html`<section aria-labelledby="h-${kind}"><h2 id="h-${kind}">${t.title}</h2>${failure}
${table(t.title, [...t.heads, T.actions], rows)}
<details${v.failure?.form === form ? html` open` : ''}><summary>${t.add}</summary>
${postForm(form, `/policy/${kind}/add`, v, [field(form, 'prefix', v, { required: true }), ...spec.fields.map(([n, o]) => field(form, n, v, opts(n, o))),
    field(form, 'reason', v, { label: COMMON.reasonRequired, required: true })], t.add)}</details></section>`;
}

async function policyPage(v: View): Promise<Html> {
  const lists = await Promise.all(KINDS.map((k) => run<{ items: Item[] }>(v, `policy.${k}.list`, {})));
  const flash = v.query.done === 'add' || v.query.done === 'remove' ? html`<p class="notice" role="status">${T.done[v.query.done]}</p>` : undefined;
  return shell(v, T.title, html`<p><a href="/policy/edges">${T.toEdges}</a></p>${KINDS.map((k, i) => kindSection(v, k, lists[i].items))}`, flash);
}

function addInput(kind: Kind, f: Form): Record<string, unknown> {
  const input: Record<string, unknown> = { prefix: (f.prefix ?? '').trim(), reason: reasonOf(f) };
  for (const [name] of SPECS[kind].fields) {
    if (name === 'expiresAt') {
      const t = timeField(f, name);
      if (t !== undefined) input.expiresAt = t;
    } else Object.assign(input, given(f, name));
  }
  return input;
}

export function policyPages(app: FastifyInstance, deps: ConsoleDeps): void {
  getPage(app, deps, '/policy', policyPage);
  for (const kind of KINDS) {
    postAction(app, deps, `/policy/${kind}/add`, `add-${kind}`, async (v, f) => {
      await run(v, `policy.${kind}.add`, addInput(kind, f));
      return '/policy?done=add';
    }, policyPage);
    postAction(app, deps, `/policy/${kind}/remove`, `remove-${kind}`, async (v, f) => {
      await run(v, SPECS[kind].removeOp, { prefix: (f.prefix ?? '').trim(), reason: reasonOf(f) });
      return '/policy?done=remove';
    }, policyPage);
  }
}
