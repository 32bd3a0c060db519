// RFC 6409 §6.1 and issue 10 item 2: every originator field (From, Sender,
// Resent-From, Resent-Sender) names only mailboxes of the account, read
// strictly by the message part so that no other reader can see another
// address. Display names that spell an address must spell one of the
// account's too: the recipient's MUA may show the name and not the address.
import { REPLIES, type Reply } from '../core/index.ts';
import { addressesInDisplayName, type OriginatorField } from '../message/index.ts';


export async function bindOriginators(originators: readonly OriginatorField[], identity: string, mayUse: (address: string) => boolean | Promise<boolean>): Promise<Reply | null> {
  const count = (label: string): number => originators.filter((o) => o.field === label).length;
  if (count('From') === 0) return REPLIES.noFrom;
  // RFC 5322 §3.6: at most one of each; two From fields are how DKIM replays fool MUAs (RFC 7489 §6.6.1).
  for (const label of ['From', 'Sender']) {
    if (count(label) > 1) return REPLIES.duplicateOriginator(label);
  }
  for (const o of originators) {
    if (!o.result.ok) return REPLIES.originatorRejected(o.field, o.result.why);
    for (const m of o.result.mailboxes) {
      if (!(await mayUse(m.address))) return REPLIES.headerAddressNotOwned(m.address, identity);
      for (const named of addressesInDisplayName(m.display)) {
        if (!(await mayUse(named))) return REPLIES.displayNameNotOwned(o.field, named, identity);
      }
    }
  }
  return null;
}
