import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fit, wrap } from '../../src/cli/demo-status.js';
import { printable, printableJson } from '../../src/cli/printable.js';

test('the status line drops whole trailing parts that do not fit the terminal, never the first two', () => {
  const parts = ['   8s  added 10/s', 'waiting 0 active 1', 'events 5 -> table 4', 'by priority 5:1 4:2'];
  assert.equal(fit(parts, 200), parts.join(' | '));
  // The third fits, the fourth would not: left out whole, not cut mid-word.
  assert.equal(fit(parts, 65), '   8s  added 10/s | waiting 0 active 1 | events 5 -> table 4');
  assert.equal(fit(parts, 50), '   8s  added 10/s | waiting 0 active 1');
  assert.equal(fit(parts, 20), '   8s  added 10/s | ');
});

test('printable escapes C0 and C1 controls, DEL and bidi overrides, and leaves other text alone', () => {
  assert.equal(
    printable('q\x1b[2K\r\x07\x7f\u009b\u202e\u2066ok'),
    'q\\x1b[2K\\x0d\\x07\\x7f\\x9b\\u202e\\u2066ok',
  );
  assert.equal(printable('wallet-audit é 日本'), 'wallet-audit é 日本');
  const json = printableJson({ 'a\x1b\u009b\u202e': 1 });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not appear
  assert.doesNotMatch(json.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f\u202e]/);
  assert.deepEqual(JSON.parse(json), { 'a\x1b\u009b\u202e': 1 });
});

test('long summary lines break at spaces, never wider than the terminal', () => {
  const text = '  completed by priority: REBALANCE_NEEDED (5) 1638, OPEN_POSITION_DETECTED (4) 2441';
  const lines = wrap(text, 50, '    ').split('\n');
  assert.deepEqual(lines, [
    '  completed by priority: REBALANCE_NEEDED (5)',
    '    1638, OPEN_POSITION_DETECTED (4) 2441',
  ]);
  assert.equal(wrap('short', 50, '  '), 'short');
});
