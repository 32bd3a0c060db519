// The periodic work (a timer, and every flush): decisions recorded but not
// enforced (a failed port, or a crash between record and enforcement) are
// enforced; notices not yet sent are sent; actions past `until` are lifted;
// notices lapse at their renotify time; quiet cases close; old unattributed
// rows go.
import type { Ctx } from './context.ts';
import { enforce, noticeFor } from './enforce.ts';
import { expire } from './release.ts';
import { caseKey } from './store.ts';

const DAY = 86_400_000;

/** Pending decisions whose retry time came (all of them at start). */
export async function reconcile(ctx: Ctx, now: number, all = false): Promise<void> {
  for (const d of await ctx.store.decisionsIn('pending')) {
    if (!all && d.nextTry > now) continue;
    if (await enforce(ctx, d)) await noticeFor(ctx, d);
  }
  for (const d of await ctx.store.noticesPending()) await noticeFor(ctx, d);
}

export async function sweep(ctx: Ctx, all = false): Promise<void> {
  const { o, store } = ctx;
  const now = o.clock.now();
  // Each step on its own: one that fails (logged) does not hold back the others.
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try { await fn(); } catch (err) { o.logger.error({ event: 'abuse', step: what, err: String(err) }, `abuse engine: the sweep could not ${what}; tried again at the next sweep`); }
  };
  await step('enforce pending decisions', () => reconcile(ctx, now, all));
  await step('lift expired actions', () => expire(ctx, now));
  await step('let notices lapse', async () => {
    if (await store.lapseNotifies(now)) {
      for (const st of ctx.subs.values()) st.blocking = st.blocking.filter((d) => !(d.action === 'notify' && d.until !== null && d.until <= now));
    }
    for (const st of ctx.subs.values()) st.blocking = st.blocking.filter((d) => !(d.state === 'immune' && d.until !== null && d.until <= now));
  });
  await step('close quiet cases', async () => {
    for (const c of await store.quietCases(now - o.closeAfterDays * DAY, 1000)) {
      await store.transaction(async (tx) => {
        await tx.closeCase(c.id, now);
        await tx.timeline(c.id, now, 'closed', 'engine', `no signal and nothing in force for ${o.closeAfterDays} days`);
      });
      ctx.subs.delete(c.subscriber);
      o.bus.publish('case.closed', { case: caseKey(c.id), subscriber: c.subscriber });
    }
  });
  await step('prune unattributed signals', () => store.pruneUnattributed(now - o.closeAfterDays * DAY));
}
