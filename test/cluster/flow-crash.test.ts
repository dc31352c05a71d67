import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashFlows } from '../flow/crash-harness.js';
import { requireRedisServer } from '../helpers/redis-server.js';

requireRedisServer();

// The short version of `CLUSTER=1 PARTITIONS=3 npm run soak:flows`: see docs/flows.md.
test('300 flows across three partitioned queues on a 3-master Cluster, worker processes SIGKILLed at random: every parent runs once, after all its children, with all their results', async () => {
  const r = await runCrashFlows({
    flows: 300,
    kills: 2,
    processes: 2,
    timeoutMs: 45_000,
    cluster: true,
    partitions: 3,
  });
  assert.deepEqual(r.problems, []);
  assert.equal(r.cluster, true);
  assert.equal(r.partitions, 3);
  assert.equal(r.kills, 2);
  // Read from every partition's completed set: all 3,300 jobs are there.
  assert.equal(r.completed, r.jobs);
  assert.equal(r.unfinished, 0);
  assert.equal(r.incomplete, 0);
  assert.equal(r.doubled, 0);
  assert.equal(r.leftovers, 0);
});
