// `portwarden case` (the real CLI process) through a real control socket to the
// cases.* operations, over a recording CaseService (the engine's own run is
// test/e2e/abuse.test.ts): what each subcommand asks, what it prints (client
// text escaped), the actor the case and the audit name, the audit row of each
// mutation, and the refusals.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { userInfo } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger } from '../core/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { Spool } from '../spool/index.ts';
import { AUDIT_MIGRATIONS, AuditLog } from '../app/index.ts';
import { createControlServer, controlSocketPath, controlRequest, type ControlServer } from '../control/index.ts';
import { CaseError, type CaseDetail, type CaseService, type CaseSummary } from '../abuse/index.ts';
import { MAIN, NODE, run } from '../../test/lib/portwarden.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { parseDuration } from './case.ts';

class RecordingCases implements CaseService {
  readonly calls: unknown[][] = [];
  readonly c: CaseDetail = {
    id: 'c-1', subscriber: 'sub-1', state: 'open', openedAt: Date.UTC(2026, 11, 2, 13), closedAt: null, score: 120.5, scoreAt: Date.UTC(2026, 11, 2, 13, 5),
    lastSignalAt: Date.UTC(2026, 11, 2, 13, 4), selfReleases: 0, deskReleases: 0, recurrences: {},
    active: [{ decision: 'd-1', action: 'suspend', rule: 'credential-abuse', at: Date.UTC(2026, 11, 2, 13, 4), until: Date.UTC(2026, 11, 3, 13, 4) }],
    evidence: [{ id: 1, caseId: 'c-1', class: 'flood', address: '192.0.2.7', port: null, account: 'zombie@isp.example', origin: 'submission', amount: 2, count: 2,
      firstAt: Date.UTC(2026, 11, 2, 13, 3), lastAt: Date.UTC(2026, 11, 2, 13, 4), detail: { rule: 'evil\u001b[2Jrule' } }],
    timeline: [{ at: Date.UTC(2026, 11, 2, 13), kind: 'opened', actor: 'abuse', text: 'opened by flood\u001b]0;owned\u0007', data: {} }],
  };
  async list(f?: object): Promise<CaseSummary[]> { this.calls.push(['list', f]); return [this.c]; }
  async show(id: string): Promise<CaseDetail | null> { return id === this.c.id ? this.c : null; }
  async openOf(): Promise<CaseSummary | null> { return this.c; }
  async note(id: string, text: string, actor: string): Promise<CaseSummary> {
    if (id !== this.c.id) throw new CaseError('not-found', `no case ${id}`);
    this.calls.push(['note', id, text, actor]);
    return this.c;
  }
  async release(id: string, actor: string, reason: string, kind: string): Promise<CaseSummary> {
    if (!this.c.active.length) throw new CaseError('conflict', `case ${id} has nothing to release`);
    this.calls.push(['release', id, actor, reason, kind]);
    this.c.active = [];
    return this.c;
  }
  async quarantine(subscriber: string, actor: string, reason: string, duration?: number | null): Promise<CaseSummary> {
    this.calls.push(['quarantine', subscriber, actor, reason, duration]);
    return { ...this.c, id: 'c-2', subscriber, active: [{ decision: 'd-2', action: 'quarantine', rule: 'desk', at: 0, until: null }] };
  }
  async selfReleaseCheck() { return { allowed: false, why: 'desk only', quietSince: null, left: 0 }; }
}

describe('portwarden case', () => {
  const tmp = tempDir('pw-case-');
  const cases = new RecordingCases();
  let store: Store, spool: Spool, control: ControlServer, audit: AuditLog;
  const config = join(tmp.path, 'pw.yaml');
  const me = userInfo().username;
  const cli = (...args: string[]) => run(NODE, [MAIN, 'case', ...args, '--config', config], { timeout: 20_000 });

  before(async () => {
    writeFileSync(config, `dataDir: ${tmp.path}\nhostname: msa.isp.example\nrelay:\n  smarthost: 127.0.0.1:2525\n`);
    store = await openStore(join(tmp.path, 'state.db'));
    await store.migrate(AUDIT_MIGRATIONS);
    audit = new AuditLog(store.db);
    const logger = new MemoryLogger();
    spool = await Spool.open(join(tmp.path, 'spool'), { logger });
    const app = { clock: { now: () => Date.now() }, logger, audit, spool, cases };
    control = await createControlServer({ spool, relay: { kick: async () => {} }, logger, path: controlSocketPath(tmp.path), audit, app });
  });
  after(async () => { await control.close(); await spool.close(); await store.close(); tmp.remove(); });

  test('list and show print the case with outside text escaped; --json is terminal-safe JSON', async () => {
    const l = await cli('list', '--state', 'open', '--subscriber', 'SUB-1');
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /^CASE\s+SUBSCRIBER\s+STATE\s+SCORE/);
    assert.match(l.stdout, /c-1\s+sub-1\s+open\s+120\.5\s+2026-12-02 13:00:00\s+suspend by credential-abuse until 2026-12-03 13:04:00/);
    assert.deepEqual(cases.calls.at(-1), ['list', { state: 'open', subscriber: 'sub-1', after: undefined, limit: 100 }]);
    const s = await cli('show', 'c-1');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /flood ×2 \(2 signals\) from submission address 192\.0\.2\.7 account zombie@isp\.example/);
    assert.ok(!s.stdout.includes('\u001b'), 'no escape byte reaches the terminal');
    assert.match(s.stdout, /opened\s+abuse: opened by flood\\x1b\]0;owned\\x07/);
    const j = await cli('show', 'c-1', '--json');
    assert.equal(JSON.parse(j.stdout).evidence[0].detail.rule, 'evil\u001b[2Jrule');
    const missing = await cli('show', 'c-9');
    assert.deepEqual([missing.code, missing.stderr.trim()], [1, 'portwarden case show: no case c-9 (not-found)']);
  });

  test('note, release and quarantine run as the Unix user; each is audited with its reason', async () => {
    const n = await cli('note', 'c-1', 'called', 'the', 'customer');
    assert.equal(n.code, 0, n.stderr);
    assert.deepEqual(cases.calls.at(-1), ['note', 'c-1', 'called the customer', `operator:${me}`]);
    const norelease = await cli('release', 'c-1');
    assert.equal(norelease.code, 2, 'a release needs --reason');
    const r = await cli('release', 'c-1', '--reason', 'customer cleaned the PC');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^c-1: released \(subscriber sub-1, open, nothing in force\)/);
    assert.deepEqual(cases.calls.at(-1), ['release', 'c-1', `operator:${me}`, 'customer cleaned the PC', 'desk']);
    const again = await cli('release', 'c-1', '--reason', 'twice');
    assert.deepEqual([again.code, again.stderr.trim()], [1, 'portwarden case release: case c-1 has nothing to release (conflict)']);
    const nf = await cli('note', 'c-404', 'hello');
    assert.deepEqual([nf.code, nf.stderr.trim()], [1, 'portwarden case note: no case c-404 (not-found)']);
    const q = await cli('quarantine', 'Sub-7', '--reason', 'spam run reported by phone', '--duration', '24h');
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /c-2: quarantined \(subscriber sub-7, open, in force: quarantine by desk until released\)/);
    assert.deepEqual(cases.calls.at(-1), ['quarantine', 'sub-7', `operator:${me}`, 'spam run reported by phone', 86_400]);
    assert.equal((await cli('quarantine', 'sub-7', '--reason', 'x', '--duration', 'soon')).code, 2);

    const rows = (await audit.list({ action: 'cases.' })).entries.reverse();
    assert.deepEqual(rows.map((e) => [e.action, e.actorKind, e.actor, e.from, e.object, e.reason, e.outcome]), [
      ['cases.note', 'operator', me, 'control', 'case c-1', '', 'ok'],
      ['cases.release', 'operator', me, 'control', 'case c-1', 'customer cleaned the PC', 'ok'],
      ['cases.release', 'operator', me, 'control', 'case c-1', 'twice', 'conflict'],
      ['cases.note', 'operator', me, 'control', 'case c-404', '', 'not-found'],
      ['cases.quarantine', 'operator', me, 'control', 'subscriber Sub-7', 'spam run reported by phone', 'ok'],
    ]);
  });

  test('the control socket checks a case request: its name, its input against the op schema, the user', async () => {
    const path = controlSocketPath(tmp.path);
    const ask = (req: object) => controlRequest(path, req as never);
    assert.deepEqual(await ask({ op: 'case', case: { name: 'drop', input: {} } }),
      { ok: false, error: { code: 'bad-request', message: 'case needs {name, input} with name one of list, show, note, release, quarantine' } });
    const bad = await ask({ op: 'case', case: { name: 'release', input: { id: 'c-1' } } });
    assert.ok(!bad?.ok && bad?.error.code === 'bad-request' && /reason/.test(bad.error.message), JSON.stringify(bad));
    assert.deepEqual(await ask({ op: 'case', case: { name: 'list', input: {} }, user: 'a b' }),
      { ok: false, error: { code: 'bad-request', message: 'user must be a user name' } });
    assert.deepEqual(await ask({ op: 'list', user: 'root' }), { ok: false, error: { code: 'bad-request', message: 'case and user are for op case only' } });
    const anon = await ask({ op: 'case', case: { name: 'note', input: { id: 'c-1', text: 'by the socket' } } });
    assert.ok(anon?.ok);
    assert.deepEqual(cases.calls.at(-1), ['note', 'c-1', 'by the socket', 'operator:control'], 'no user named: the control actor');
  });

  test('no server: the CLI says cases live in the running server', async () => {
    const other = tempDir('pw-case-none-');
    const cfg = join(other.path, 'pw.yaml');
    writeFileSync(cfg, `dataDir: ${other.path}\nhostname: msa.isp.example\nrelay:\n  smarthost: 127.0.0.1:2525\n`);
    const r = await run(NODE, [MAIN, 'case', 'list', '--config', cfg], { timeout: 20_000 });
    other.remove();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no server runs on .* cases live in the running server/);
  });

  test('durations', () => {
    assert.deepEqual(['90m', '24h', '7d', '3600', '30s', 'soon', '-1', ''].map(parseDuration), [5400, 86_400, 604_800, 3600, 30, null, null, null]);
  });
});
