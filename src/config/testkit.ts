// Test helper for the config part's tests: the issues a config text is refused with.
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './index.ts';

export function errorsOf(text: string): string[] {
  try {
    parseConfig(text, 'pw.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected a ConfigError');
}
