// The built-in notice texts, one per kind: plain, friendly, saying what was
// seen, what it means, what to do (RFC 6561 §6 guided remediation, with
// professional help as a way out), how long it lasts and the link. They never
// ask for a password or a login (RFC 6561 §5; REQUIREMENTS H2), and say so, so
// that a forged notice that does stands out. Override any of them with a file
// of the same name in abuse.notices.templateDir (templates.ts).
import type { NoticeKind } from './templates.ts';

const STEPS = `What to do
  1. Run an up-to-date virus scanner on every computer, phone and tablet
     that uses this connection, and remove what it finds.
  2. Install the pending updates of each device, and of your router.
  3. If a device keeps being flagged, ask a computer repair shop or a
     knowledgeable friend to clean it, or reinstall it.
  4. Once everything is clean, change the passwords of your e-mail and
     other online accounts, on the clean device.`;

const SAFE = `This message never asks for your password, and our page has no place
to type one. If a message that looks like ours asks for it, it is not
from us: do not answer it.`;

const TAIL = `The page for this case (no password needed):
  {{link}}

{{selfRelease}}

Questions? Write to {{desk}} and give the case number {{case}}.

${SAFE}`;

export const BUILTIN: Record<NoticeKind, string> = {
  'notify': `Subject: Your internet connection may have a virus (case {{case}})

Hello,

we saw something unusual coming from your internet connection (customer
{{subscriber}}). It usually means that a device in your home or office has
caught a virus that sends junk mail without you knowing.

What we saw
{{evidence}}

Nothing has been switched off. Please check your devices soon, so that we
do not have to restrict your connection.

${STEPS}

${TAIL}
`,
  'quarantine': `Subject: Your internet connection is restricted (case {{case}})

Hello,

a device on your internet connection (customer {{subscriber}}) is sending
junk mail, most likely because of a virus. To protect you and others we have
put your connection into a safe mode: you can still reach this page and the
sites you need to clean your devices, but most other traffic is held back.

What we saw
{{evidence}}

How long: {{until}}.

${STEPS}

${TAIL}
`,
  'suspend': `Subject: Your mail account is paused (case {{case}})

Hello,

mail sent through your account (customer {{subscriber}}) looks like junk
mail sent by someone else, perhaps because a device is infected or the
account's details were stolen. We have paused sending from the account and
held back the mail still waiting to go out.

What we saw
{{evidence}}

How long: {{until}}.

${STEPS}

${TAIL}
`,
  'revoke-exemption': `Subject: Direct mail sending from your connection is switched off (case {{case}})

Hello,

your connection (customer {{subscriber}}) was allowed to send mail directly
to other mail servers. Because of what we saw, we have switched that off:
please send your mail through our mail service until this is cleared up.

What we saw
{{evidence}}

How long: {{until}}.

${STEPS}

${TAIL}
`,
  'exemption-renewal': `Subject: Your port 25 exemption ends soon ({{case}})

Hello,

the port 25 exemption of your connection (customer {{subscriber}}) lets
your own mail server send mail directly to other mail servers. It runs
{{until}}.

The exemption
{{evidence}}

If you still need it, you can ask to renew it on your account page:
  {{link}}

If you do nothing, it ends by itself and your server should then send its
mail through our mail service.

Questions? Write to {{desk}} and give the number {{case}}.

${SAFE}
`,
  'released': `Subject: Your internet connection is back to normal (case {{case}})

Hello,

the restriction on your connection (customer {{subscriber}}) has been lifted.
Thank you for taking care of it. If the same problem comes back we will have
to restrict the connection again, and for longer, so please keep your
devices up to date.

The page for this case:
  {{link}}

Questions? Write to {{desk}} and give the case number {{case}}.

${SAFE}
`,
};
