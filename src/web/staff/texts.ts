// Every text of the console's frame (the shell, home, sign-in, the staff page),
// kept together so they can be translated. Functions take values and return
// plain text; the pages escape it.
const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const minutes = (ms: number): number => Math.max(1, Math.ceil(ms / 60_000));

export const T = {
  lang: 'en',
  site: 'portwarden console',
  skip: 'Skip to content',
  signedInAs: (name: string, role: string) => `Signed in as ${name} (${role})`,
  signOut: 'Sign out',
  footer: 'portwarden: every change you make here is recorded in the audit log under your name.',

  home: {
    title: 'Console',
    intro: 'Where to go:',
  },

  signin: {
    title: 'Sign in',
    intro: 'Sign in with your staff name and password. The next step asks for the code of your authenticator app.',
    name: 'Staff name',
    password: 'Password',
    submit: 'Continue',
    missingName: 'Enter your staff name.',
    missingPassword: 'Enter your password.',
    wrong: 'The name or the password is wrong. Check both and try again.',
    locked: (until: number, now: number) =>
      `Too many failed sign-ins: signing in with this name or from this address is locked until ${clockTime(until)} UTC (about ${minutes(until - now)} minutes from now). An administrator can end the lock sooner.`,
    expired: 'The sign-in took too long or was started in another window. Start again.',
    cookies: 'This form has expired or your browser refused the console\'s cookie. Reload the page and try again (the console needs cookies).',
    signedOut: 'You are signed out.',
  },

  code: {
    title: 'Authenticator code',
    intro: 'Enter the 6-digit code your authenticator app shows for portwarden now.',
    label: 'Code',
    hint: '6 digits; a new code comes every 30 seconds.',
    submit: 'Sign in',
    missing: 'Enter the 6 digits of the code.',
    wrong: 'That code is wrong, or it was used already. Wait for the next code and enter it.',
    startAgain: 'Start again',
  },

  password: {
    title: 'Choose your password',
    intro: 'Your password was generated for you. Choose your own before you go on; nobody else will know it.',
    label: 'New password',
    hint: (min: number) => `At least ${min} characters. A few unrelated words make a good one.`,
    again: 'The same password again',
    submit: 'Save and go on',
    short: (min: number) => `The password is shorter than ${min} characters.`,
    long: (max: number) => `The password is longer than ${max} characters.`,
    differ: 'The two passwords differ. Enter the same one twice.',
    same: 'Choose a password other than the one you were given.',
    done: 'Your password is changed.',
  },

  errors: {
    csrf: 'This form has expired or did not come from this console page. Go back, reload the page and send the form again.',
    signInFirst: 'Sign in first.',
    notFound: 'There is no such page in the console.',
    forbidden: 'Your role does not allow this.',
    busy: 'The server is checking many passwords at this moment. Wait a few seconds and send the form again.',
    failed: 'Something went wrong on the server; the details are in its log. Try again, or tell an administrator.',
  },

  staff: {
    title: 'Staff',
    intro: 'The people who may use this console. Roles: desk (cases, exemptions, holding mail), postmaster (accounts, subscribers, the queue, cases), netops (network policy, exemptions), admin (everything, including these users and API tokens).',
    adminOnly: 'Only an administrator can see and change the staff users.',
    caption: 'Staff users',
    cols: { name: 'Name', role: 'Role', state: 'State', last: 'Last sign-in', actions: 'Actions' },
    active: 'active',
    disabled: 'disabled',
    locked: (until: number) => `locked until ${clockTime(until)} UTC`,
    never: 'never',
    disable: (n: string) => `Disable ${n}`,
    enable: (n: string) => `Enable ${n}`,
    resetTotp: (n: string) => `New authenticator for ${n}`,
    unlock: (n: string) => `Unlock ${n}`,
    addTitle: 'Add a staff user',
    name: 'Name',
    nameHint: '2 to 32 characters: a letter, then letters, digits, ".", "_" or "-". Case does not matter.',
    role: 'Role',
    password: 'Password (optional)',
    passwordHint: 'Leave empty to have one generated; the person then chooses their own at the first sign-in.',
    add: 'Add',
    created: (n: string) => `${n} was added.`,
    totpDone: (n: string) => `${n} has a new authenticator secret; the old one no longer works and their sessions ended.`,
    once: 'Shown this once only: give it to the person in a safe way, then leave this page.',
    uri: 'Authenticator URI (make a QR code of it, or open it on the phone)',
    secret: 'Secret to type into the authenticator (SHA-1, 6 digits, 30 seconds)',
    generated: 'Generated password (to be changed at the first sign-in)',
    back: 'Back to the staff list',
    changed: (n: string, what: string) => `${n}: ${what}.`,
  },
} as const;
