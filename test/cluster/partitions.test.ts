import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from '../../src/index.js';
import { partitionNames } from '../../src/queue/partitions/layout.js';
import { askNode, type RedisClusterProcess, startCluster } from '../helpers/redis-cluster.js';
import { requireRedisServer } from '../helpers/redis-server.js';
import { Load, quiet, replicaOf, STEP, untilMaster, untilNothingLeft } from './load.js';

/**
 * A partitioned queue on a real 3+3 Cluster: its partitions land on all three masters,
 * one worker drains them all, and a kill -9 of one master mid-run loses no acknowledged
 * job (durability { replicas: 1 }) and leaves none in active.
 */
requireRedisServer();
let cluster: RedisClusterProcess;
const open: { close(): Promise<void> }[] = [];
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await Promise.all(open.map((o) => o.close()));
  await cluster?.stop();
});

test('three partitions land on the three masters; a worker drains them all; the queue reads as one', async () => {
  const q = new Queue('spread', { connection: cluster.url, partitions: 3, logger: quiet });
  open.push(q);
  const masters = await Promise.all(
    partitionNames('hopper', 'spread', 3).map((p) => cluster.masterFor(`{hopper:${p}}`)),
  );
  assert.equal(new Set(masters.map((m) => m.port)).size, 3, 'one partition per master');
  const ids = await q.addBulk(Array.from({ length: 600 }, (_, i) => ({ name: 'j', data: { i } })));
  for (let g = 0; g < 6; g++) await q.add('g', { g }, { group: `tenant-${g}` });
  assert.equal((await q.getCounts()).waiting, 606);
  assert.deepEqual((await q.getJob(ids[300]!))?.data, { i: 300 });
  // Each master holds a third of the jobs.
  for (const m of masters) {
    const keys = await askNode(m.port, (c) => c.call('DBSIZE'));
    assert.ok(Number(keys) > 0, `master ${m.port} holds keys`);
  }
  const done = new Set<string>();
  const w = new Worker('spread', (job) => void done.add(job.id), {
    connection: cluster.url,
    partitions: 3,
    concurrency: 20,
    logger: quiet,
  });
  open.push(w);
  const deadline = Date.now() + 30_000;
  while (done.size < 606 && Date.now() < deadline) await sleep(50);
  assert.equal(done.size, 606);
  // The last settles may still be on their way when the last handler returns.
  const counts = await untilNothingLeft(q);
  assert.equal(counts.completed, 606);
  assert.equal(counts.active, 0);
  assert.equal((await q.getJobs('completed', 0, 9)).length, 10);
});

test('kill -9 of one master under a partitioned load (durability { replicas: 1 }): every acknowledged job completes, none stuck in active', async () => {
  const load = new Load('p-killed', cluster.url, {
    partitions: 3,
    durability: { replicas: 1, timeoutMs: 2000 },
  });
  open.push(load);
  await load.untilAcked(STEP);
  const key = `{hopper:${partitionNames('hopper', 'p-killed', 3)[1]}}`;
  const master = await cluster.masterFor(key);
  const replica = await replicaOf(cluster, master.port);
  await master.kill9();
  const killedAt = load.acked.size;
  await untilMaster(cluster, key, replica);
  // The promoted master has no replica until the old one comes back (WAIT 1 needs one).
  await master.restart();
  await load.untilAcked(killedAt + STEP, 60_000);
  await load.stopProducing();
  await load.untilAllCompleted(30_000);
  const missing = load.missing();
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged jobs never completed`);
  // The last settles may still be on their way when the last handler returns.
  const counts = await untilNothingLeft(load.queue);
  assert.equal(counts.active, 0, 'no job stuck in active');
  assert.equal(counts.waiting, 0);
  console.log(
    `partitioned kill -9: ${load.acked.size} acknowledged, ${load.completed.size} completed, ${load.runs - load.completed.size} extra runs, ${load.addErrors} add errors`,
  );
});
