import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { tempDir } from '../../../test/lib/tools.ts';
import { asksForPassword, loadTemplates, NOTICE_KINDS, parseTemplate, renderTemplate, TemplateError, type TemplateValues } from './templates.ts';
import { evidenceLines } from './evidence.ts';

const values: TemplateValues = {
  case: 'c12', subscriber: 'cust-1', evidence: '  - seen', until: 'until tomorrow', link: 'https://portal.isp.example/notice?t=abc.def',
  selfRelease: 'You can lift it yourself.', desk: 'abuse@isp.example',
};
// What no built-in notice may say: a request for a password or a login, or a form.
const FORBIDDEN = [/\b(?:enter|type|send|give|confirm|verify|provide)\b[^.\n]{0,40}password/i, /\b(?:log|sign)\s?-?in\b/i, /login/i, /<form|<input/i];

test('every built-in template carries the case id and the link, and asks for no password or login', () => {
  const t = loadTemplates();
  assert.deepEqual(Object.keys(t).sort(), [...NOTICE_KINDS].sort());
  for (const kind of NOTICE_KINDS) {
    const r = renderTemplate(t[kind], values);
    const all = `${r.subject}\n${r.body}`;
    assert.ok(r.subject.includes('c12'), `${kind}: subject names the case`);
    assert.ok(r.body.includes('c12'), `${kind}: body names the case`);
    assert.ok(r.body.includes(values.link), `${kind}: body carries the link`);
    for (const re of FORBIDDEN) assert.doesNotMatch(all, re, `${kind}`);
    assert.equal(asksForPassword(all), null, kind);
    assert.doesNotMatch(all, /\{\{/, `${kind}: every placeholder filled`);
  }
  // Guided remediation (RFC 6561 §6): each restricting notice says what to do.
  for (const kind of ['notify', 'quarantine', 'suspend', 'revoke-exemption'] as const) {
    assert.match(t[kind].body, /What to do/);
    assert.match(t[kind].body, /\{\{evidence\}\}/);
  }
});

test('a file in templateDir overrides its kind only; placeholders are filled', (t) => {
  const dir = tempDir();
  t.after(() => dir.remove());
  writeFileSync(`${dir.path}/quarantine.txt`, 'Subject: Quarantäne {{case}}\n\nHallo {{subscriber}},\n{{evidence}}\nSeite: {{link}}\n{{ selfRelease }}\n');
  const all = loadTemplates(dir.path);
  assert.equal(all.quarantine.source, `${dir.path}/quarantine.txt`);
  assert.equal(all.notify.source, 'built-in notify');
  const r = renderTemplate(all.quarantine, values);
  assert.equal(r.subject, 'Quarantäne c12');
  assert.equal(r.body, `Hallo cust-1,\n  - seen\nSeite: ${values.link}\nYou can lift it yourself.\n`);
});

test('a template that asks for a password is refused at load, naming the file and line', (t) => {
  const dir = tempDir();
  t.after(() => dir.remove());
  const cases: Array<[string, RegExp]> = [
    ['Subject: Case {{case}}\n\nHello,\nto restore your access please\nenter your password at {{link}}\n', /suspend\.txt:5: refused: it asks for a password/],
    ['Subject: Case {{case}}\n\nPlease log in here: {{link}}\n', /suspend\.txt:3: refused: it asks the reader to log in/],
    ['Subject: Case {{case}}\n\nReply with your login details. {{link}}\n', /refused: it asks for a password/],
    ['Subject: Case {{case}}\n\n<form><input type=password></form> {{link}}\n', /refused: it contains a form/],
    ['Subject: Fall {{case}}\n\nBitte bestätigen Sie: senden Sie uns Ihr Passwort {{link}}\n', /refused/],
  ];
  for (const [text, re] of cases) {
    writeFileSync(`${dir.path}/suspend.txt`, text);
    assert.throws(() => loadTemplates(dir.path), (e: unknown) => e instanceof TemplateError && re.test(e.message), text);
  }
  // Advice to change passwords afterwards is guidance, not a request.
  assert.equal(asksForPassword('Once clean, change the passwords of your accounts.'), null);
});

test('unknown placeholders, a missing {{case}} or {{link}}, and a bad first line are config errors naming the file', (t) => {
  const dir = tempDir();
  t.after(() => dir.remove());
  const file = `${dir.path}/notify.txt`;
  const bad: Array<[string, RegExp]> = [
    ['Subject: x {{case}}\n\n{{link}}\nDear {{customer}}\n', /notify\.txt:4: unknown placeholder \{\{customer\}\}/],
    ['Subject: x\n\n{{link}}\n', /notify\.txt: must contain \{\{case\}\}/],
    ['Subject: x {{case}}\n\nno link\n', /notify\.txt: must contain \{\{link\}\}/],
    ['Hello {{case}}\n\n{{link}}\n', /notify\.txt:1: the first line must be "Subject: …"/],
    ['Subject: {{case}}\nbody {{link}}\n', /notify\.txt:2: a blank line must follow/],
    ['Subject: {{case}}\n\n{{link}} {{oops\n', /notify\.txt:3: unbalanced/],
  ];
  for (const [text, re] of bad) {
    writeFileSync(file, text);
    assert.throws(() => loadTemplates(dir.path), (e: unknown) => e instanceof TemplateError && e.message.startsWith(file) && re.test(e.message), text);
  }
  assert.throws(() => parseTemplate('notify', 'Subject: {{case}}\n\n{{link}} {{until}} {{nope}}', 'x.txt'), /x\.txt:3: unknown placeholder \{\{nope\}\}/);
});

test('evidence lines are plain words from the classes, never raw report text', () => {
  const row = (cls: string, amount: number, detail: Record<string, string> = {}) =>
    ({ class: cls as never, amount, count: 1, firstAt: Date.UTC(2026, 11, 2, 9, 5), lastAt: Date.UTC(2026, 11, 2, 10, 0), detail });
  const lines = evidenceLines([row('edge-destinations', 400), row('edge-destinations', 12), row('edge-blocked', 900),
    row('report', 1, { feedbackType: 'abuse\u001b[31m\u202e' }), row('unknown-class', 5)]);
  assert.equal(lines.length, 3);
  assert.equal(lines[0], 'Your connection tried to send mail directly to 412 outside mail servers on port 25. (seen between 2 December 2026, 09:05 UTC and 2 December 2026, 10:00 UTC)');
  assert.match(lines[1], /^Our network stopped 900 attempts/);
  assert.match(lines[2], /^1 complaint from outside about mail from your connection reached us \(reported as: abuse\\x1b\[31m\\u202e\)/);
  for (const l of lines) assert.doesNotMatch(l, /[\u0000-\u001f\u007f\u202e]/);
});
