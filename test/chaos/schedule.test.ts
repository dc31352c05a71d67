import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_KINDS, makeSchedule } from '../../chaos/schedule.js';
import { FULL, SHORT } from '../../chaos/settings.js';

test('a seed gives the same fault schedule every time, another seed another one', () => {
  assert.deepEqual(makeSchedule(5, FULL), makeSchedule(5, FULL));
  assert.notDeepEqual(makeSchedule(5, FULL), makeSchedule(6, FULL));
});

test('the short form has every fault kind, inside the chaos phase', () => {
  for (const seed of [1, 2, 3, 42]) {
    const schedule = makeSchedule(seed, SHORT);
    assert.deepEqual(new Set(schedule.map((f) => f.kind)), new Set(FAULT_KINDS), `seed ${seed}`);
    assert.ok(schedule.every((f) => f.at > 0 && f.at < SHORT.chaosMs));
    const stops = schedule.filter((f) => f.kind === 'stop-worker');
    assert.ok(
      stops.every((f) => f.ms > SHORT.leaseMs),
      'workers are stopped past their lease',
    );
  }
});
