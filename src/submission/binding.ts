// RFC 6409 §6.1 and issue 10 item 2: every originator field (From, Sender,
// Resent-From, Resent-Sender) names only mailboxes of the account, read
// strictly by the message part so that no other reader can see another
// address. Display names that spell an address must spell one of the
// account's too: the recipient's MUA may show the name and not the address.
import { reply, type Reply } from '../core/index.ts';
import { addressesInDisplayName, type OriginatorField } from '../message/index.ts';

const noFrom = reply(554, '5.6.0', 'Message has no From: header field');
// A reply is ASCII whatever the client wrote (a non-SMTPUTF8 client must not get UTF-8 back).
const shown = (a: string): string => a.replace(/[^\x21-\x7e]/gu, '?');

export async function bindOriginators(originators: readonly OriginatorField[], identity: string, mayUse: (address: string) => boolean | Promise<boolean>): Promise<Reply | null> {
  const count = (label: string): number => originators.filter((o) => o.field === label).length;
  if (count('From') === 0) return noFrom;
  // RFC 5322 §3.6: at most one of each; two From fields are how DKIM replays fool MUAs (RFC 7489 §6.6.1).
  for (const label of ['From', 'Sender']) {
    if (count(label) > 1) return reply(550, '5.7.1', `Message has more than one ${label}: header field`);
  }
  for (const o of originators) {
    if (!o.result.ok) return reply(550, '5.7.1', `Header ${o.field}: field rejected: ${o.result.why}; use a plain address or Name <address>`);
    for (const m of o.result.mailboxes) {
      if (!(await mayUse(m.address))) return reply(550, '5.7.1', `Header address <${shown(m.address)}> rejected: not owned by user ${shown(identity)}`);
      for (const named of addressesInDisplayName(m.display)) {
        if (!(await mayUse(named))) return reply(550, '5.7.1', `Header ${o.field}: display name shows <${shown(named)}>, not owned by user ${shown(identity)}`);
      }
    }
  }
  return null;
}
