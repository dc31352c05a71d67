import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { askNode, migrateSlot, type RedisClusterProcess, startCluster } from '../helpers/redis-cluster.js';
import { requireRedisServer } from '../helpers/redis-server.js';
import { Load, STEP, untilNothingLeft } from './load.js';

/**
 * Resharding on a real 3+3 Cluster: the slot of a busy queue moves to another master
 * (IMPORTING/MIGRATING, MIGRATE of its keys a few at a time, SETSLOT NODE: what
 * `redis-cli --cluster reshard` does) while its producer and worker run. Scripts meet
 * ASK and TRYAGAIN (a multi-key call on a slot whose keys are split between the two
 * nodes) until the slot has moved; afterwards every acknowledged job has completed once.
 */
requireRedisServer();
let cluster: RedisClusterProcess;
const loads: Load[] = [];
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await Promise.all(loads.map((l) => l.close()));
  await cluster?.stop();
});

test("moving a busy queue's slot to another master: every acknowledged job completes once, none stuck", async () => {
  const name = 'resharded';
  const tag = `{hopper:${name}}`;
  const load = new Load(name, cluster.url);
  loads.push(load);
  const errors: string[] = [];
  load.worker.on('error', (e) => errors.push(e.message));
  await load.untilAcked(STEP);
  const from = await cluster.masterFor(tag);
  const to = await otherMaster(from.port);
  const slot = (await askNode(from.port, (c) => c.call('CLUSTER', 'KEYSLOT', tag))) as number;
  // Its keys in about 25 MIGRATE calls, 150 ms apart: the move lasts seconds (however many
  // keys the queue has), longer than ioredis's own retries of TRYAGAIN (maxRedirections)
  // cover, as a big queue's would.
  const startedAt = Date.now();
  const moved = await migrateSlot(cluster, slot, from, to, { batches: 25, pauseMs: 150 });
  const tookMs = Date.now() - startedAt;
  assert.ok(moved > 5, `the queue's keys moved (${moved})`);
  assert.equal((await cluster.masterFor(tag)).port, to.port, 'the slot now lives on the target');
  const at = load.acked.size;
  await load.untilAcked(at + STEP, 60_000);
  await load.stopProducing();
  await load.untilAllCompleted(30_000);
  assert.deepEqual(
    load.missing().slice(0, 5),
    [],
    `${load.missing().length} acknowledged jobs never completed`,
  );
  const counts = await untilNothingLeft(load.queue);
  assert.equal(counts.active, 0, 'no job stuck in active');
  assert.equal(counts.waiting, 0);
  // No kill, no lapsed lease: the move itself made no job run twice.
  assert.equal(load.runs, load.completed.size, 're-runs');
  assert.equal(
    await askNode(from.port, (c) => c.call('CLUSTER', 'COUNTKEYSINSLOT', slot)),
    0,
    'nothing of the queue left on the old master',
  );
  // Script calls refused while the slot moved were sent again (slot-moving.ts), not failed.
  assert.deepEqual(errors.slice(0, 3), [], 'worker errors');
  assert.equal(load.addErrors, 0, 'add errors');
  console.log(
    `reshard: ${tookMs} ms to move the slot, ${moved} keys moved, ${load.acked.size} acknowledged, ${load.completed.size} completed, ${load.addErrors} add errors`,
  );
});

async function otherMaster(port: number) {
  for (const node of cluster.nodes) {
    if (node.port === port) continue;
    const info = await askNode(node.port, (c) => c.info('replication'));
    if (info?.includes('role:master')) return node;
  }
  throw new Error('no other master');
}
