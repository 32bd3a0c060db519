// Every text of the public portal pages (setup guides, "Am I blocked?") in one
// place, so that they can be translated as a whole: copy this module, translate
// the strings, keep the keys. Plain words for a subscriber, not an engineer.
// Values passed in are escaped by the pages' `html` tag, never here.

export type GuideFamily = 'thunderbird' | 'outlook' | 'apple' | 'android' | 'command-line' | 'device';
export const GUIDE_FAMILIES: readonly GuideFamily[] = ['thunderbird', 'outlook', 'apple', 'android', 'command-line', 'device'];

export type AddressClassText = 'dynamic' | 'static' | 'business' | 'cgnat' | 'outside';
export type Port25Text = 'quarantine' | 'relay' | 'customer-server' | 'exemption' | 'blocked-class' | 'open-class' | 'not-ours';

export const PORTAL_TEXTS = {
  lang: 'en',
  skip: 'Skip to content',
  nav: { guides: 'Set up your mail', blocked: 'Am I blocked?' },
  footer: (name: string) => `${name} — we never ask for your password on these pages, except when you sign in to the portal.`,
  errorTitle: 'This page is not available right now',
  errorText: 'Something went wrong on our side. Please try again in a few minutes.',
  notFoundTitle: 'There is no such guide',
  notFoundText: 'Please pick your mail program from the list of guides.',

  guides: {
    indexTitle: 'Set up your mail program',
    indexIntro: (name: string) => `Pick the program or device you send mail with. Each guide gives ${name}'s real settings; most programs find them by themselves once you type your e-mail address.`,
    listCaption: 'Guides',
    families: {
      thunderbird: { title: 'Thunderbird (Windows, Mac, Linux)', short: 'Thunderbird on a computer' },
      outlook: { title: 'Outlook (Windows and Mac, also "new Outlook")', short: 'Outlook on Windows or Mac' },
      apple: { title: 'Apple Mail (iPhone, iPad, Mac)', short: 'Mail on iPhone, iPad or Mac' },
      android: { title: 'Android (Thunderbird for Android, K-9 Mail, FairEmail, Gmail)', short: 'Mail apps on Android' },
      'command-line': { title: 'Command line (msmtp, mutt, curl)', short: 'msmtp, mutt and other command-line tools' },
      device: { title: 'A server or device that sends mail (printers, NAS, your own mail server)', short: 'Printers, scanners, NAS, cameras, your own mail server' },
    } satisfies Record<GuideFamily, { title: string; short: string }>,
    settingsHeading: 'The settings',
    settingsCaption: 'Outgoing mail (SMTP): either row works',
    incomingCaption: 'Incoming mail',
    col: { what: 'Setting', server: 'Server', port: 'Port', security: 'Security', auth: 'Authentication', user: 'User name' },
    outgoing: 'Outgoing (SMTP)',
    incomingType: { imap: 'Incoming (IMAP)', pop3: 'Incoming (POP3)' },
    security: { SSL: 'SSL/TLS', STARTTLS: 'STARTTLS' },
    auth: 'Normal password',
    user: 'Your full e-mail address',
    neverPort25: 'Never use port 25 in a mail program: it is blocked on home connections and is not meant for sending your mail (see below).',
    noIncoming: 'We do not run your mailbox: take the incoming (IMAP or POP3) settings from whoever does.',
    stepsHeading: 'Step by step',
    exampleAddress: (domain: string) => `you@${domain}`,
    back: 'All guides',
    why: {
      heading: 'Why port 25 is blocked',
      text: [
        'Port 25 is how mail servers pass mail to each other. Your computer or phone is not a mail server: it hands your mail to our mail server (the "submission" server), on port 587 or 465, with your address and password, and our server delivers it.',
        'Viruses on home computers send junk mail straight to other servers on port 25, and they do not know your password. Blocking port 25 on home connections stops them without affecting your mail. Mail providers worldwide do the same, following the anti-abuse recommendation "Managing Port 25" (M3AAWG).',
        'The password travels only inside an encrypted connection (STARTTLS on 587, SSL/TLS on 465).',
      ],
      more: 'Check your own connection',
    },
    steps: {
      thunderbird: [
        'Open Thunderbird. In the menu choose Account Settings, then Account Actions, then Add Mail Account.',
        'Enter your name, your full e-mail address and your password, and click Continue.',
        'Thunderbird looks up the settings by itself. Check that the outgoing server is the one in the table, with SSL/TLS on 465 or STARTTLS on 587, and click Done.',
        'If it finds nothing, click Configure manually and type the settings from the table. Authentication method: Normal password.',
        'If you had an older account that sends on port 25: Account Settings, Outgoing Server (SMTP), select it, Edit, and change the port and security as in the table.',
      ],
      outlook: [
        'New Outlook and Outlook for Mac: choose Settings, Accounts, Add account; enter your e-mail address and choose "IMAP" (or "POP") when asked for the account type.',
        'Classic Outlook for Windows: File, Add Account, enter your address, then Advanced options, "Let me set up my account manually", and choose IMAP or POP.',
        'Outgoing mail: the server from the table, port 465 with SSL/TLS, or port 587 with STARTTLS (Outlook calls SSL/TLS "SSL/TLS" and STARTTLS "STARTTLS", older versions "TLS").',
        'Tick "My outgoing server (SMTP) requires authentication" and use the same user name (your full address) and password as for incoming mail. Do not tick "Secure Password Authentication (SPA)".',
      ],
      apple: [
        'On iPhone or iPad: Settings, Apps, Mail, Mail Accounts, Add Account, Other, Add Mail Account. On a Mac: Mail, Settings, Accounts, the + button, Other Mail Account.',
        'Enter your name, your full e-mail address and your password.',
        'For the outgoing mail server type the server from the table; user name: your full address; password: yours. Apple Mail picks SSL/TLS on 465 by itself; if asked, turn on "Use SSL".',
        'Or install our settings profile (below) and enter your password when the device asks for it.',
      ],
      android: [
        'Thunderbird for Android and K-9 Mail: Add account, enter your address and password; the app finds the settings. If it asks, choose the settings from the table (Security: SSL/TLS, port 465).',
        'FairEmail: Settings, Main, Manual setup and account options, Identities (outgoing): the server from the table, SSL/TLS on 465 or STARTTLS on 587, your full address as user name.',
        'Gmail app: Add another account, Other, enter your address, choose "Personal (IMAP)" or POP3; on the outgoing server page type the server from the table, tick "Require sign-in", and use your full address and password.',
        'Samsung Email and other apps: look for "outgoing server" or "SMTP" in the account settings and use the table.',
      ],
      'command-line': [
        'Any program that speaks SMTP can send through us: connect to the server on port 465 with TLS (or 587 with STARTTLS) and log in with your full address and password.',
        'Keep your password out of the configuration file where you can (msmtp: passwordeval; mutt: a password manager command).',
      ],
      device: [
        'A printer, scanner, NAS, camera or alarm: in its e-mail or "SMTP" settings enter the server from the table, port 587 with STARTTLS (or 465 with SSL/TLS if the device offers it), "authentication" on, and one of your e-mail addresses with its password.',
        'Your own mail server (Postfix, Exim, Exchange, a home server): send outgoing mail through our submission server as a "smart host" or "relay host" with your address and password, on port 587.',
        'If you really must deliver directly to other mail servers on port 25 (a business mail server with its own domain and a fixed address), you can ask us for a port-25 exemption after signing in to the portal. Shared (CGNAT) addresses cannot be exempt: ask us for a fixed address first.',
      ],
    } satisfies Record<GuideFamily, readonly string[]>,
    snippets: {
      msmtp: 'msmtp (~/.msmtprc)',
      mutt: 'mutt or neomutt (~/.muttrc)',
      curl: 'curl, sending one message from a file',
      postfix: 'Postfix as a smart-host client (main.cf, and a password file)',
    },
    profile: {
      heading: 'The settings profile for Apple devices',
      text: 'Type your e-mail address and open the link on the iPhone, iPad or Mac you set up. The profile is signed by us and holds no password: the device asks for it.',
      label: 'Your e-mail address',
      button: 'Make the link',
      link: (address: string) => `Install the profile for ${address}`,
      bad: (domains: string) => `That is not one of our e-mail addresses. Please type the whole address, ending in ${domains}.`,
      none: 'We do not offer a settings profile at the moment; please follow the steps above.',
    },
    exemptionLink: 'Ask for a port-25 exemption (sign-in needed)',
  },

  blocked: {
    title: 'Am I blocked?',
    intro: 'This page looks at the connection you are using right now and tells you what we do with mail sent from it.',
    yourAddress: 'You are connected from',
    forwarded: '(as our front-end server saw it)',
    unknownTitle: 'We cannot tell where you connect from',
    unknownText: 'Your request came through a server that did not say which address it came from. Please open this page directly, without a proxy or VPN.',
    classHeading: 'What kind of address this is',
    class: {
      dynamic: 'One of our home internet addresses. It can change when your router reconnects.',
      static: 'A fixed (static) address from us.',
      business: 'One of our business addresses.',
      cgnat: 'An address that many of our customers share at the same time (carrier-grade NAT). Your router has no public address of its own.',
      outside: 'Not one of our addresses. You seem to be connected through another provider, a mobile network, a VPN or a company network; this page can only tell you about connections through us.',
    } satisfies Record<AddressClassText, string>,
    port25Heading: 'Sending mail straight to other mail servers (port 25)',
    port25: {
      'blocked-class': 'Blocked. Devices on this connection cannot deliver mail straight to other mail servers on port 25. Your own mail is not affected: your mail program sends through our mail server on port 587 or 465 with your address and password.',
      quarantine: 'Blocked. This connection is in a safe mode for now because of a problem we saw: only a few services can be reached until it is solved.',
      exemption: 'Allowed: this connection has a port-25 exemption.',
      relay: 'Allowed: this is one of our own mail servers.',
      'customer-server': 'Allowed: this address belongs to a mail server that may deliver directly, by agreement with us.',
      'open-class': 'Not blocked: fixed and business addresses may deliver mail directly. Other mail servers will only accept it if the server is set up properly (a name that matches its address, and the domain\'s own records).',
      'not-ours': 'We do not block anything for this address. If your mail is refused, ask whoever provides this connection.',
    } satisfies Record<Port25Text, string>,
    exemptionUntil: (when: string) => `The exemption ends on ${when}. You will be offered a renewal before then.`,
    exemptionForever: 'The exemption has no end date.',
    caseHeading: 'Is there a problem with this connection?',
    caseOpen: 'Yes: there is an open case about this connection. The notice page says what we saw and what to do.',
    caseNone: 'No: there is no open case about this connection.',
    caseShared: 'Many customers share this address, so we cannot tell which of them this is about. If we sent you a notice, please use the link in it.',
    noticeLink: 'Go to the notice page',
    listsHeading: 'Block lists',
    ownListed: 'Our own list of home addresses, which other mail servers consult, includes this address. That is normal for home connections: it is why mail from here goes through our mail server.',
    ownNotListed: 'Our own list of home addresses does not include this address.',
    outsideListed: (zones: string) => `This address is on a block list kept by others: ${zones}. That usually means a device on this connection sent junk mail. Check your devices with an up-to-date virus scanner.`,
    outsideNone: 'When we last checked, no outside block list named this address.',
    todoHeading: 'What you can do',
    todo: {
      setup: 'Set up your mail program to send through us',
      exemption: 'Run your own mail server? Ask for a port-25 exemption (sign-in needed)',
      staticFirst: 'A shared address cannot get an exemption. If you need to run a mail server, ask us for a fixed address first.',
      notice: 'Read the notice about this connection',
      renew: 'Renew the exemption before it ends (sign-in needed)',
      why: 'Why port 25 is blocked',
      nothing: 'Nothing: mail programs work on this connection as usual with the settings in our guides.',
    },
  },
} as const;

export type PortalTexts = typeof PORTAL_TEXTS;
