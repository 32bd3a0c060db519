// Abuse cases (the abuse engine's CaseService): list, show with evidence and
// timeline, the desk's notes, releases and quarantines. Only where the engine
// runs (the server) are cases available; the CLI reaches them through the
// control socket. Each mutation is audited by invoke(); the case's own timeline
// names the same actor ("operator:alice", "token:desk").
import { Type } from 'typebox';
import { ACTION_KINDS, CaseError, SIGNAL_CLASSES, TIMELINE_KINDS, type CaseService } from '../../abuse/index.ts';
import type { Context } from '../actor.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Input, Limit, Str } from './common.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DetailSchema = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]));
const State = Type.Union([Type.Literal('open'), Type.Literal('closed')]);
const Active = Type.Object({
  decision: Type.String(), action: Type.Enum(ACTION_KINDS), rule: Type.String(), at: Type.Number(), until: Nullable(Type.Number()),
});
const summary = {
  id: Type.String(), subscriber: Type.String(), state: State, openedAt: Type.Number(), closedAt: Nullable(Type.Number()),
  score: Type.Number(), scoreAt: Type.Number(), lastSignalAt: Nullable(Type.Number()), active: Type.Array(Active),
  selfReleases: Type.Integer(), deskReleases: Type.Integer(), recurrences: Type.Record(Type.String(), Type.Integer()),
};
export const CaseSummarySchema = Type.Object(summary);
const EvidenceSchema = Type.Object({
  id: Type.Number(), caseId: Type.String(), class: Type.Enum(SIGNAL_CLASSES), address: Nullable(Type.String()), port: Nullable(Type.Integer()),
  account: Nullable(Type.String()), origin: Type.String(), amount: Type.Number(), count: Type.Integer(), firstAt: Type.Number(), lastAt: Type.Number(),
  detail: DetailSchema,
});
const TimelineSchema = Type.Object({ at: Type.Number(), kind: Type.Enum(TIMELINE_KINDS), actor: Type.String(), text: Type.String(), data: DetailSchema });
export const CaseDetailSchema = Type.Object({ ...summary, evidence: Type.Array(EvidenceSchema), timeline: Type.Array(TimelineSchema) });

const CaseId = Str('case id', { minLength: 1, maxLength: 100 });
const Subscriber = Str('subscriber id', { minLength: 1, maxLength: 200 });
/** Required here: a desk action on a subscriber is always explained. */
const Why = Str('why (recorded in the audit and the case timeline)', { minLength: 1, maxLength: 500 });

const cases = (deps: AppDeps): CaseService => need(deps, 'cases');
/** The actor as the case timeline names it. */
export const caseActor = (c: Context): string => `${c.actor.kind}:${c.actor.name}`;
const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ').trim();

/** The engine's refusals (CaseError: not-found, conflict, invalid-value) are catalogue codes already. */
async function caseCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CaseError) throw new AppError(e.code, e.message);
    throw e;
  }
}

async function existing(deps: AppDeps, id: string) {
  const c = await cases(deps).show(id);
  if (!c) throw new AppError('not-found', `no case ${id}`);
  return c;
}

export const casesList = operation({
  name: 'cases.list', summary: 'abuse cases, newest first: open or closed, one subscriber', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/cases' },
  input: Input({ state: Type.Optional(State), subscriber: Type.Optional(Subscriber), after: Type.Optional(Str('the last id of the previous page')), limit: Limit(1000) }),
  output: Type.Object({ cases: Type.Array(CaseSummarySchema), next: Type.Optional(Type.String()) }),
  async run(i, _c, deps: AppDeps) {
    const limit = i.limit ?? 100;
    const list = await cases(deps).list({ state: i.state, subscriber: i.subscriber?.trim().toLowerCase(), after: i.after, limit });
    return list.length >= limit ? { cases: list, next: list[list.length - 1].id } : { cases: list };
  },
});

export const casesShow = operation({
  name: 'cases.show', summary: 'one case with its evidence and timeline', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/cases/:id' }, input: Input({ id: CaseId }), output: CaseDetailSchema,
  async run(i, _c, deps: AppDeps) { return existing(deps, i.id); },
});

export const casesNote = operation({
  name: 'cases.note', summary: "add a desk note to a case's timeline", scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/cases/:id/notes' },
  input: Input({ id: CaseId, text: Str('the note', { minLength: 1, maxLength: 2000 }) }), output: CaseSummarySchema,
  object: (i) => `case ${i.id}`,
  async run(i, c, deps: AppDeps) {
    return caseCall(() => cases(deps).note(i.id, i.text.trim(), caseActor(c)));
  },
});

export const casesRelease = operation({
  name: 'cases.release', summary: 'desk release: the previous policy back (exemptions included), accounts enabled', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/cases/:id/release' }, input: Input({ id: CaseId, reason: Why }), output: CaseSummarySchema,
  object: (i) => `case ${i.id}`,
  async run(i, c, deps: AppDeps) {
    return caseCall(() => cases(deps).release(i.id, caseActor(c), oneLine(i.reason), 'desk'));
  },
});

export const casesQuarantine = operation({
  name: 'cases.quarantine', summary: "desk quarantine of a subscriber's current addresses (opens a case when none is open)", scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/cases/quarantine' },
  input: Input({ subscriber: Subscriber, reason: Why,
    duration: Type.Optional(Type.Integer({ minimum: 60, maximum: 365 * 86_400, description: 'seconds; absent: until released' })) }),
  output: CaseSummarySchema, object: (i) => `subscriber ${i.subscriber}`,
  async run(i, c, deps: AppDeps) {
    return caseCall(() => cases(deps).quarantine(i.subscriber.trim().toLowerCase(), caseActor(c), oneLine(i.reason), i.duration ?? null));
  },
});

export const CASE_OPS = [casesList, casesShow, casesNote, casesRelease, casesQuarantine] as const;
