import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireRedisServer } from '../helpers/redis-server.js';
import { runCrashFlows } from './crash-harness.js';

requireRedisServer();

// The short version of `npm run soak:flows` (10,000 flows): see docs/flows.md.
test('300 flows across three queues, worker processes SIGKILLed at random: every parent runs once, after all its children, with all their results', async () => {
  const r = await runCrashFlows({ flows: 300, kills: 2, processes: 2, timeoutMs: 35_000 });
  assert.deepEqual(r.problems, []);
  assert.equal(r.kills, 2);
  assert.equal(r.unfinished, 0);
  assert.equal(r.incomplete, 0);
  assert.equal(r.doubled, 0);
  assert.equal(r.leftovers, 0);
});
