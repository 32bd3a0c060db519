import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueCommand } from './queue.ts';
import { caseCommand } from './case.ts';
import type { Io } from './commands.ts';

function io(): Io & { outs: string[]; errs: string[] } {
  const outs: string[] = [], errs: string[] = [];
  return { outs, errs, out: (s) => outs.push(s), err: (s) => errs.push(s), readStdin: async () => '', env: {} };
}

test('queue and case: an unknown subcommand is named with its control bytes made visible, usage follows, exit 2', async () => {
  for (const [cmd, name] of [[queueCommand, 'queue'], [caseCommand, 'case']] as const) {
    const o = io();
    assert.equal(await cmd.run(['li\x1b[2Jst'], o), 2);
    assert.doesNotMatch(o.errs.join(''), /\x1b/);
    assert.match(o.errs[0], new RegExp(`unknown ${name} subcommand "li.*st"`));
    assert.match(o.errs[0], new RegExp(`usage: portwarden ${name} <subcommand>`));
  }
});

test('queue and case: --help lists the subcommands; an option the subcommand does not take is refused', async () => {
  const o = io();
  assert.equal(await queueCommand.run(['--help'], o), 0);
  assert.match(o.outs[0], /^usage: portwarden queue <subcommand>[\s\S]*\n {2}list /);
  const p = io();
  assert.equal(await caseCommand.run(['list', '--reason', 'x'], p), 2);
  assert.match(p.errs[0], /^case list: unexpected --reason\nusage: portwarden case list/);
});
