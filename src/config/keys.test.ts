// docs/configure.md documents every config key with its default, checked here
// against the schema: a key missing from the guide, a row for a key that does
// not exist, or a default written differently, fails and is named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configKeys, type ConfigKey } from './index.ts';
import { docRows, documented, guideDefault } from './keys-doc.ts';

const GUIDE = join(import.meta.dirname, '..', '..', 'docs', 'configure.md');

test('docs/configure.md has a row for every config key, with its default, and none for keys that do not exist', () => {
  const rows = docRows(readFileSync(GUIDE, 'utf8'));
  const keys = documented(configKeys());
  const missing = keys.filter((k) => !rows.has(k.path)).map((k) => k.path);
  const unknown = [...rows.keys()].filter((p) => !keys.some((k) => k.path === p));
  const wrong = keys.filter((k) => !k.container && rows.has(k.path) && rows.get(k.path) !== guideDefault(k))
    .map((k) => `${k.path}: guide says ${rows.get(k.path)}, schema says ${guideDefault(k)}`);
  assert.deepEqual({ missing, unknown, wrong }, { missing: [], unknown: [], wrong: [] },
    'run `node tools/config-doc.ts` for starting rows of missing keys');
});

test('the check sees a missing key, an unknown row and a wrong default', () => {
  const keys: ConfigKey[] = configKeys();
  assert.ok(keys.length > 90 && keys.some((k) => k.path === 'listeners[].port') && keys.some((k) => k.path === 'submission.postmasterRate.per'));
  const rows = docRows('| key | default | meaning |\n|---|---|---|\n| `smtp.maxErrors` | `21` | x |\n| `smtp.nope` | `1` | y |\n');
  assert.deepEqual([...rows], [['smtp.maxErrors', '`21`'], ['smtp.nope', '`1`']]);
  const k = keys.find((x) => x.path === 'smtp.maxErrors')!;
  assert.notEqual(rows.get(k.path), guideDefault(k));
  assert.equal(guideDefault(keys.find((x) => x.path === 'hostname')!), '`localhost`');
  assert.equal(guideDefault(keys.find((x) => x.path === 'tls.cert')!), 'unset');
  assert.equal(guideDefault(keys.find((x) => x.path === 'listeners[].port')!), 'required');
});
