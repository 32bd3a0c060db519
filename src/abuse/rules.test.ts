import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_WEIGHTS, parseRules, parseWeights, ruleScore, RuleError } from './rules.ts';

test('defaults: a bot at 5 blocked/s to many destinations for 60 s is quarantined; a misconfigured mail client is only notified', () => {
  const rules = parseRules(undefined), w = parseWeights(undefined);
  const fired = (sums: Record<string, number>) => rules.filter((r) => ruleScore(r, w, sums) >= r.threshold).map((r) => r.action);
  assert.deepEqual(fired({ 'edge-blocked': 300, 'edge-destinations': 120 }).sort(), ['notify', 'quarantine']);
  assert.deepEqual(fired({ 'edge-blocked': 20, 'edge-destinations': 1 }), ['notify']);
  assert.deepEqual(fired({ 'edge-blocked': 3, 'edge-destinations': 1 }), []);
});

test('validation errors name the config path', () => {
  assert.throws(() => parseWeights({ bogus: 1 }), (e: unknown) => e instanceof RuleError && /abuse\.classes\.bogus/.test(e.message));
  assert.throws(() => parseWeights({ dnsbl: -1 }), /abuse\.classes\.dnsbl/);
  assert.throws(() => parseRules([{ name: 'x', classes: ['flood'], threshold: 1, window: 60, action: 'ban' }]), /abuse\.rules\[0\]\.action/);
  assert.throws(() => parseRules([{ name: 'x', classes: ['nope'], threshold: 1, window: 60, action: 'notify' }]), /abuse\.rules\[0\]\.classes\[0\]/);
  assert.throws(() => parseRules([{ name: 'x', classes: ['flood'], threshold: 1, window: 60, action: 'suspend', renotify: 5 }]), /\.renotify: only/);
  const ok = { name: 'a', classes: ['flood'], threshold: 1, window: 60, action: 'notify' };
  assert.throws(() => parseRules([ok, ok]), /abuse\.rules\[1\]\.name: duplicate/);
  assert.equal(parseRules([ok])[0].escalation, 1);
  assert.equal(DEFAULT_WEIGHTS.dnsbl, 200);
});
