// The NoticeSender: one message per contact, rendered from the kind's template,
// with a signed link to the case's page, committed to portwarden's own spool
// (the same path the relay's DSNs take) so the relay delivers it with retries,
// DKIM and DSNs like any other mail. The spool is a port the wiring supplies.
import { randomBytes } from 'node:crypto';
import { systemClock, visible, type Clock, type Logger, silentLogger } from '../../core/index.ts';
import type { EventBus } from '../../events/index.ts';
import type { NoticeRequest, NoticeSender, SelfReleaseCheck } from '../types.ts';
import { plainTime } from './evidence.ts';
import { fromAddress, noticeMessage } from './mime.ts';
import { renderTemplate, type NoticeKind, type Template, type TemplateValues } from './templates.ts';
import type { NoticeTokens } from './tokens.ts';

/** What the sender needs of a spool: queue one message to one recipient, resolve with its queue id once durable. */
export interface NoticeSpool {
  queue(envelope: { mailFrom: string; to: string; smtputf8: boolean; attributes: Record<string, string> }, message: Buffer): Promise<string>;
}

export interface NoticeMailerOptions {
  /** abuse.notices.from */
  from: string;
  /** abuse.notices.pageUrl: the link is this URL with ?t=TOKEN. */
  pageUrl: string;
  /** The node's hostname (Message-ID). */
  hostname: string;
  templates: Record<NoticeKind, Template>;
  tokens: NoticeTokens;
  spool: NoticeSpool;
  bus?: EventBus;
  clock?: Clock;
  logger?: Logger;
}

// An addr-spec we will put on an envelope: no spaces, controls, brackets or quotes; one @ with both sides.
const MAILBOX = /^[^\s<>()\[\]\\,;:"@\x00-\x1f\x7f]{1,64}@[^\s<>()\[\]\\,;:"@\x00-\x1f\x7f]{1,253}$/u;

export class NoticeMailer implements NoticeSender {
  private readonly o: NoticeMailerOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(o: NoticeMailerOptions) {
    if (!MAILBOX.test(fromAddress(o.from))) throw new Error(`abuse.notices.from: "${visible(o.from)}" is not a mailbox`);
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
  }

  /** The page link for a case: pageUrl with ?t= (or &t=) and the signed token. */
  link(caseId: string, subscriber: string): string {
    const t = this.o.tokens.link(caseId, subscriber);
    const u = new URL(this.o.pageUrl);
    u.searchParams.set('t', t);
    return u.toString();
  }

  async send(n: NoticeRequest): Promise<{ queueIds: string[] }> {
    const template = this.o.templates[n.kind];
    if (!template) throw new Error(`no notice template for kind ${visible(String(n.kind))}`);
    const contacts = [...new Set(n.contacts.map((c) => c.trim()).filter((c) => c !== ''))];
    const good = contacts.filter((c) => MAILBOX.test(c));
    for (const bad of contacts.filter((c) => !MAILBOX.test(c))) {
      this.logger.warn({ event: 'notice', case: n.caseId, subscriber: visible(n.subscriber), contact: visible(bad) }, 'notice: contact is not a mailbox; skipped');
    }
    if (!good.length) throw new Error(`case ${visible(n.caseId)}: subscriber ${visible(n.subscriber)} has no contact a notice can go to`);
    const { subject, body } = renderTemplate(template, this.values(n));
    const now = this.clock.now();
    const queueIds: string[] = [];
    for (const to of good) {
      const message = noticeMessage({ from: this.o.from, to, subject, body, hostname: this.o.hostname, id: randomBytes(6).toString('hex'), now, caseId: n.caseId });
      const id = await this.o.spool.queue({
        mailFrom: fromAddress(this.o.from), to, smtputf8: /[^\x00-\x7f]/.test(to),
        attributes: { notice: n.kind, case: n.caseId },
      }, message);
      queueIds.push(id);
    }
    this.o.bus?.publish('notice.sent', { case: n.caseId, subscriber: n.subscriber, kind: n.kind, queueIds });
    return { queueIds };
  }

  private values(n: NoticeRequest): TemplateValues {
    const clean = (s: string): string => visible(s.replace(/\s+/g, ' ').trim());
    const evidence = n.evidence.length ? n.evidence.map((l) => `  - ${clean(l)}`).join('\n') : '  - (the details are on the page for this case)';
    return {
      case: clean(n.caseId),
      subscriber: clean(n.subscriber),
      evidence,
      until: untilText(n.until),
      link: n.link ?? this.link(n.caseId, n.subscriber),
      selfRelease: selfReleaseText(n.kind, n.selfRelease, fromAddress(this.o.from)),
      desk: fromAddress(this.o.from),
    };
  }
}

/** "until 2 December 2026, 14:05 UTC", or until someone lifts it. */
export function untilText(until: number | null): string {
  return until === null ? 'until the problem is fixed and the restriction is lifted' : `until ${plainTime(until)}, unless it is lifted earlier`;
}

export function selfReleaseText(kind: NoticeKind, s: SelfReleaseCheck, desk: string): string {
  if (kind === 'released' || kind === 'exemption-renewal') return '';
  if (kind === 'notify') return 'Nothing has been restricted, so there is nothing to lift: cleaning your devices is enough.';
  if (s.allowed) return 'When your devices are clean, you can lift the restriction yourself with the button on the page above.';
  return `You cannot lift this yourself right now (${visible(s.why)}). Please write to ${desk} when your devices are clean.`;
}
