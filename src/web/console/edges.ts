// /policy/edges: where the policy is enforced — each edge's reported version
// beside the one recorded as applied (policy.edges, policy.applied) and the
// version in force (policy.show), what the next apply changes on an edge
// (policy.diff), the compiled text (policy.compile), the blocked port-25
// attempts per source (policy.blocked), and the edge settings (policy.settings.*).
import type { FastifyInstance } from 'fastify';
import { html, type Html } from '../html.ts';
import type { ConsoleDeps } from '../types.ts';
import { attempt, field, getPage, given, listOf, postAction, postForm, reasonOf, run, say, shell, table, when, type View } from './kit.ts';
import { choices } from './policy.ts';
import { COMMON, POLICY as T } from './texts.ts';

interface EdgeReport { edge: string; reportedAt: number; version: string; omitted: number; rejected: { version: string; error: string; at: number | null } | null }
interface Settings { subscriberIfaces: string[]; upstreamIfaces: string[]; action: string; relay25: boolean; notice4?: string; notice6?: string }
interface Diff { edge: string; from: string | null; to: string; changes: Array<{ set: string; add: string[]; remove: string[] }> }

const short = (version: string): string => version.slice(0, 12);

async function edgesSection(v: View, current: string): Promise<Html> {
  const { edges } = await run<{ edges: EdgeReport[] }>(v, 'policy.edges', {});
  const applied = await Promise.all(edges.map((e) => run<{ version: string; at: number } | null>(v, 'policy.applied', { edge: e.edge })));
  const rows = edges.map((e, i) => [e.edge, when(e.reportedAt),
    html`${short(e.version)} <span class="${e.version === current ? 'ok' : 'bad'}">(${e.version === current ? T.upToDate : T.behind})</span>`,
    applied[i] ? `${short(applied[i].version)} (${when(applied[i].at)})` : COMMON.none, e.omitted,
    e.rejected ? `${short(e.rejected.version)}: ${e.rejected.error}` : '']);
  return html`<section aria-labelledby="edges"><h2 id="edges">${T.edges}</h2><p>${T.current(current)}</p>${table(T.edges, T.edgesHeads, rows)}</section>`;
}

async function diffSection(v: View): Promise<Html> {
  const edge = v.query.edge?.trim() || 'local';
  const d = await attempt(run<Diff>(v, 'policy.diff', { edge }));
  const body = !d.ok ? html`<p class="error" role="alert">${say(d.error, v.me.role)}</p>`
    : html`<p>${T.diffFrom(d.value.from ? short(d.value.from) : null, short(d.value.to))}</p>
${table(T.diff, T.diffHeads, d.value.changes.map((c) => [c.set, c.add.join(' '), c.remove.join(' ')]), T.diffNone)}`;
  return html`<section aria-labelledby="diff"><h2 id="diff">${T.diff}</h2>
<form method="get" action="/policy/edges" aria-label="${T.diffShow}">${field('diff', 'edge', { me: v.me }, { value: edge, label: T.diffFor })}
<input type="hidden" name="format" value="${v.query.format ?? ''}"><button type="submit">${T.diffShow}</button></form>${body}</section>`;
}

async function compileSection(v: View): Promise<Html> {
  const format = T.formats.some(([f]) => f === v.query.format) ? v.query.format : 'nft';
  const c = await attempt(run<{ version: string; text: string }>(v, 'policy.compile', { format }));
  return html`<section aria-labelledby="compiled"><h2 id="compiled">${T.compile}</h2>
<form method="get" action="/policy/edges" aria-label="${T.compile}"><input type="hidden" name="edge" value="${v.query.edge ?? ''}">
${field('compile', 'format', { me: v.me }, { value: format, options: T.formats })}<button type="submit">${T.compileShow}</button></form>
${c.ok ? html`<pre>${c.value.text}</pre>` : html`<p class="error" role="alert">${say(c.error, v.me.role)}</p>`}</section>`;
}

function settingsSection(v: View, s: Settings): Html {
  const actions = choices(v.deps, 'policy.settings.set', 'action');
  return html`<section aria-labelledby="settings"><h2 id="settings">${T.settings}</h2>
${postForm('settings', '/policy/settings', v, [
    field('settings', 'subscriberIfaces', v, { value: s.subscriberIfaces.join(', '), hint: T.ifacesHint }),
    field('settings', 'upstreamIfaces', v, { value: s.upstreamIfaces.join(', '), hint: T.ifacesHint }),
    field('settings', 'action', v, { value: s.action, ...(actions ? { options: actions } : {}) }),
    field('settings', 'relay25', v, { value: s.relay25 ? 'true' : 'false', options: [['true', COMMON.yes], ['false', COMMON.no]] }),
    field('settings', 'notice4', v, { value: s.notice4 ?? '', hint: T.noticeHint }), field('settings', 'notice6', v, { value: s.notice6 ?? '', hint: T.noticeHint }),
    field('settings', 'reason', v, { label: COMMON.reasonRequired, required: true }),
  ], T.settingsSave)}</section>`;
}

async function edgesPage(v: View): Promise<Html> {
  const [shown, settings, blocked] = await Promise.all([
    run<{ version: string }>(v, 'policy.show', {}), run<Settings>(v, 'policy.settings.show', {}),
    run<{ sources: Array<{ edge: string; source: string; packets: number; destinations: number; reportedAt: number }> }>(v, 'policy.blocked', { limit: 100 }),
  ]);
  const flash = v.query.done === 'settings' ? html`<p class="notice" role="status">${T.done.settings}</p>` : undefined;
  return shell(v, T.edgesTitle, html`<p><a href="/policy">${T.toEntries}</a></p>${await edgesSection(v, shown.version)}${await diffSection(v)}
<section aria-labelledby="blocked"><h2 id="blocked">${T.blocked}</h2>
${table(T.blocked, T.blockedHeads, blocked.sources.map((b) => [b.edge, b.source, b.packets, b.destinations, when(b.reportedAt)]))}</section>
${settingsSection(v, settings)}${await compileSection(v)}`, flash);
}

export function edgePages(app: FastifyInstance, deps: ConsoleDeps): void {
  getPage(app, deps, '/policy/edges', edgesPage);
  postAction(app, deps, '/policy/settings', 'settings', async (v, f) => {
    await run(v, 'policy.settings.set', {
      ...given(f, 'action'), reason: reasonOf(f), notice4: (f.notice4 ?? '').trim(), notice6: (f.notice6 ?? '').trim(),
      subscriberIfaces: listOf(f.subscriberIfaces), upstreamIfaces: listOf(f.upstreamIfaces), relay25: f.relay25 !== 'false',
    });
    return '/policy/edges?done=settings';
  }, edgesPage);
}
