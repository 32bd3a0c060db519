// Every text of the notice page, in one place so that it can be translated as
// a whole (copy this module, translate the strings, keep the keys). Plain
// words for a subscriber, not for an engineer. Values passed in are escaped by
// the renderer (notice-html.ts), never here.
export const NOTICE_TEXTS = {
  lang: 'en',
  siteTitle: 'Notice about your internet connection',
  caseLabel: 'Case number',
  customerLabel: 'Customer',
  titles: {
    restricted: 'Your internet connection is restricted for now',
    notified: 'We saw something unusual on your internet connection',
    clear: 'Nothing is restricted on your connection',
    released: 'Thank you: the restriction is being lifted',
    none: 'There is no notice for this connection',
    link: 'This link does not work',
    csrf: 'Please try again',
    refused: 'The restriction cannot be lifted from here yet',
    error: 'This page is not available right now',
  },
  intro: {
    quarantine: 'A device on your connection seems to be sending junk mail, most likely because of a virus. Until it is cleaned, your connection is in a safe mode: you can reach this page and the sites you need to clean your devices.',
    suspend: 'Mail sent through your account looks like junk mail sent by someone else. Sending from the account is paused, and the mail still waiting to go out is held back.',
    'revoke-exemption': 'Your connection was allowed to send mail directly to other mail servers. That is switched off for now: please send mail through our mail service.',
    notify: 'Nothing has been switched off. Please check your devices soon, so that we do not have to restrict your connection.',
    clear: 'This case has nothing in force any more. If the problem comes back, we will tell you.',
  },
  seenHeading: 'What we saw',
  seenNone: 'The details of this case are kept by our abuse desk; write to us if you want to know more.',
  todoHeading: 'What to do',
  todo: [
    'Run an up-to-date virus scanner on every computer, phone and tablet that uses this connection, and remove what it finds.',
    'Install the pending updates of each device, and of your router.',
    'If a device keeps being flagged, ask a computer repair shop or a knowledgeable friend to clean it, or reinstall it.',
    'Once everything is clean, change the passwords of your e-mail and other online accounts, on the clean device.',
  ],
  untilHeading: 'How long',
  untilNever: 'Until the problem is fixed and the restriction is lifted.',
  until: (when: string) => `Until ${when}, unless it is lifted earlier.`,
  releaseHeading: 'Lift the restriction yourself',
  releaseExplain: 'When you have cleaned your devices, you can lift the restriction yourself. If the problem comes back, the restriction comes back too, and for longer.',
  releaseLeft: (n: number) => (n === 1 ? 'You can do this one more time.' : `You can do this ${n} more times.`),
  releaseButton: 'My devices are clean: lift the restriction',
  releaseNotNow: 'You cannot lift this yourself right now:',
  releasedText: 'The restriction has been lifted. It can take a minute or two until everything works again. If the problem comes back, the restriction comes back too.',
  refusedText: 'We could not lift the restriction:',
  csrfText: 'This form is too old, or it did not come from this page. Please reload the page and press the button again.',
  linkText: (why: string) => `The link you followed cannot be used: ${why}. Links in our notices work for a limited time only.`,
  ambiguousText: 'Several customers share the address you are using, so we cannot tell which notice is yours. Please use the link in the notice we sent you.',
  noneText: 'We have no open case for the connection you are using now. If you got a notice from us, please use the link in it.',
  errorText: 'Something went wrong on our side. Please try again in a few minutes.',
  deskHeading: 'Questions?',
  desk: (contact: string) => `Write to ${contact} and give your case number.`,
  deskNoCase: (contact: string) => `Write to ${contact}.`,
  safety: 'We never ask for your password on this page or in our messages. If something that looks like us does, it is not us.',
} as const;

export type NoticeTexts = typeof NOTICE_TEXTS;
