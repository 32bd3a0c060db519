// The abuse mailbox's reports: the list (newest first, by source, subscriber
// or time) and one report with the start of its stored bytes. Read-only: a
// report is evidence; retention (directory.retentionDays) deletes them.
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Input, Limit, Str } from './common.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NStr = Nullable(Type.String());
const NInt = Type.Union([Type.Integer(), Type.Null()]);

export const ReportSchema = Type.Object({
  id: Type.String(), receivedAt: Type.Integer({ description: 'ms since the epoch' }), kind: Type.Union([Type.Literal('arf'), Type.Literal('plain')]),
  feedbackType: NStr, userAgent: NStr, reportedMessageId: NStr,
  source: Type.Union([Type.String({ description: 'the address the report blames' }), Type.Null()]), sourcePort: NInt,
  sourceFrom: Type.String({ description: 'where the source came from: Source-IP, X-Originating-IP, Received-SPF, Authentication-Results, Received, none' }),
  at: Type.Union([Type.Integer({ description: 'when the reported message arrived, as the report says (ms)' }), Type.Null()]),
  atFrom: Type.String({ description: 'where that time came from: Arrival-Date, Received, Date, complaint-Date, none' }),
  subscriber: Type.Union([Type.String({ description: 'who held the source then' }), Type.Null()]),
  reporter: Type.String({ description: 'the envelope sender ("" for <>)' }), recipient: Type.String(), clientIp: Type.String(),
  subject: NStr, size: Type.Integer({ description: 'octets as received' }),
});

const REPORT_ID = { minLength: 18, maxLength: 18 };

export const reportsList = operation({
  name: 'reports.list', summary: 'outside abuse complaints the mailbox stored, newest first', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/reports' },
  input: Input({
    since: Type.Optional(Type.Integer({ description: 'received from this time (ms, inclusive)' })), until: Type.Optional(Type.Integer({ description: 'received before this time (ms)' })),
    source: Type.Optional(Str('the blamed address (canonical)')), subscriber: Type.Optional(Str('the subscriber it was joined to')),
    after: Type.Optional(Str('the id of the last report of the previous page', REPORT_ID)), limit: Limit(1000),
  }),
  output: Type.Object({ reports: Type.Array(ReportSchema), next: Type.Optional(Type.String()) }),
  async run(i, _c, deps: AppDeps) {
    return need(deps, 'reports').list(i);
  },
});

export const reportsShow = operation({
  name: 'reports.show', summary: 'one stored report: its fields and the start of its bytes (trace fields first, as stored)', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/reports/:id' },
  input: Input({
    id: Str('report id', REPORT_ID),
    maxBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 * 1024 * 1024, description: 'at most this many octets of the stored message (default 256 KiB)' })),
  }),
  output: Type.Object({
    report: ReportSchema,
    raw: Type.Union([Type.String({ description: 'the stored octets read as UTF-8 (invalid sequences replaced); client text: encode before showing' }), Type.Null()]),
    rawSize: Type.Union([Type.Integer(), Type.Null()]), truncated: Type.Boolean(),
    file: Type.Union([Type.String({ description: 'where the file is on the node that took the report' }), Type.Null()]),
  }),
  async run(i, _c, deps: AppDeps) {
    const store = need(deps, 'reports');
    if (!/^r[0-9a-z]{9}[0-9a-f]{8}$/.test(i.id)) throw new AppError('invalid-value', `not a report id: ${i.id}`);
    const report = await store.get(i.id);
    if (!report) throw new AppError('not-found', `no report ${i.id}`);
    const raw = await store.raw(i.id, i.maxBytes ?? 256 * 1024);
    return {
      report, raw: raw ? raw.bytes.toString('utf8') : null, rawSize: raw ? raw.size : null, truncated: raw ? raw.bytes.length < raw.size : false,
      file: raw ? store.fileOf(i.id) : null,
    };
  },
});

export const REPORT_OPS = [reportsList, reportsShow] as const;
