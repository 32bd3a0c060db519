// The exemption sweep as a service of the node: every exemptions.sweepMinutes
// (and once at start) the exemptions.sweep operation runs as the system actor
// "exemptions" (audited like any change): grants that ended are marked expired
// (the policy store already stopped exempting at expiresAt) and grants ending
// within exemptions.renewBeforeDays are offered for renewal, with a notice to
// the subscriber's contacts through the notice mailer (kind exemption-renewal,
// linking to the request's portal page).
import type { Logger } from '../core/index.ts';
import type { Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Spool } from '../spool/index.ts';
import { invoke, loadOperation, systemActor, type AppDeps, type ExemptionRequest } from '../app/index.ts';
import { createNoticeSender } from './notice-wiring.ts';
import type { Service } from './services.ts';

export interface ExemptionsWiring {
  cfg: Config;
  logger: Logger;
  bus: EventBus;
  spool: Spool;
  app: AppDeps;
}

/** The portal page of a request, for the renewal notice's link. */
export function requestUrl(cfg: Config, id: number): string {
  return new URL(`/exemption/${id}`, cfg.portal.publicUrl ?? `https://${cfg.hostname}/`).toString();
}

/** The renewal offer's notice: the subscriber's contacts from the directory, the grant's end, the request's page. */
export function renewalOffer(w: ExemptionsWiring): (r: ExemptionRequest) => Promise<void> {
  const sender = createNoticeSender({ cfg: w.cfg, spool: w.spool, bus: w.bus, logger: w.logger });
  return async (r) => {
    const sub = await w.app.directory?.subscriber(r.subscriber);
    await sender.send({
      kind: 'exemption-renewal', caseId: `exemption-${r.id}`, subscriber: r.subscriber, contacts: sub?.contacts ?? [],
      evidence: [`address ${r.prefix}, mail server ${r.server}`, `asked for: ${r.reason}`], until: r.expiresAt,
      selfRelease: { allowed: false, why: '', quietSince: null, left: 0 }, link: requestUrl(w.cfg, r.id),
    });
  };
}

/** One sweep; the operation (and its audit record) only when something is due, so an idle hour writes nothing. */
export async function sweepOnce(app: AppDeps): Promise<{ expired: number[]; offered: number[]; noticeFailures: string[] }> {
  const d = app.exemptions!;
  if (!(await d.repo.sweepDue(app.clock.now(), d.settings.renewBeforeDays * 86_400_000))) return { expired: [], offered: [], noticeFailures: [] };
  const op = await loadOperation('exemptions.sweep');
  return await invoke(op, {} as never, { actor: systemActor('exemptions') }, app, app.audit!, () => app.clock.now()) as never;
}

export function exemptionsService(get: () => ExemptionsWiring): Service {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  return {
    name: 'exemptions',
    start: () => {
      const w = get();
      if (!w.app.exemptions || !w.app.audit) return;
      w.app.exemptions.offer = renewalOffer(w);
      const tick = (): void => {
        if (running) return;
        running = sweepOnce(w.app).then((r) => {
          if (r.expired.length || r.offered.length) w.logger.info({ event: 'exemptions', expired: r.expired, offered: r.offered }, 'exemption sweep');
          for (const f of r.noticeFailures) w.logger.warn({ event: 'exemptions', failure: f }, 'exemption renewal notice not sent');
        }, (err: unknown) => { w.logger.error({ event: 'exemptions', err: String(err) }, 'exemption sweep failed'); })
          .finally(() => { running = undefined; });
      };
      tick();
      timer = setInterval(tick, w.cfg.exemptions.sweepMinutes * 60_000).unref();
    },
    stop: async () => { clearInterval(timer); await running; },
  };
}
