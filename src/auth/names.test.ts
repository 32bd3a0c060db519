import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeLogin } from './names.ts';

test('one login, however it is spelt: case, trailing dot, IDNA, width and Unicode normal forms (RFC 8265 UsernameCaseMapped)', async () => {
  const want = 'victim@xn--bcher-kva.example';
  for (const v of ['victim@bücher.example', 'VICTIM@BÜCHER.EXAMPLE', 'victim@xn--bcher-kva.example.', 'victim@ｂüｃｈｅｒ.example',
    'Victim@Bu\u0308cher.Example', 'ｖｉｃｔｉｍ@bücher.example', 'VICTIM@XN--BCHER-KVA.EXAMPLE']) {
    assert.equal(normalizeLogin(v), want, v);
  }
  assert.equal(normalizeLogin('Jose\u0301'), normalizeLogin('JOSÉ'), 'NFD and NFC of a bare login');
  assert.equal(normalizeLogin('ｊｏｓｅ'), 'jose');
  for (const bad of ['', 'a b', 'a\tb', '@isp.example', 'x:y', 'a'.repeat(256)]) assert.equal(normalizeLogin(bad), null, JSON.stringify(bad));
  for (const v of ['victim@bücher.example', 'Jose\u0301', 'ｊｏｓｅ']) assert.equal(normalizeLogin(normalizeLogin(v)!), normalizeLogin(v), 'idempotent');
});
