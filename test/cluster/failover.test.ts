import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { askNode, type RedisClusterProcess, startCluster } from '../helpers/redis-cluster.js';
import { requireRedisServer } from '../helpers/redis-server.js';
import { Load, replicaOf, STEP, untilMaster, untilNothingLeft } from './load.js';

/**
 * Failover under load on a real 3+3 Cluster (cluster-node-timeout 2 s): producers and
 * workers carry on without a restart, every acknowledged job completes, none stays active.
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

async function settle(load: Load): Promise<void> {
  await load.stopProducing();
  await load.untilAllCompleted(30_000);
  const counts = await untilNothingLeft(load.queue);
  assert.deepEqual(
    load.missing().slice(0, 5),
    [],
    `${load.missing().length} acknowledged jobs never completed`,
  );
  assert.equal(counts.active, 0, 'no job stuck in active');
  assert.equal(counts.waiting, 0);
}

test("CLUSTER FAILOVER of the busy queue's master under load: every acknowledged job completes", async () => {
  const load = new Load('manual', cluster.url);
  loads.push(load);
  await load.untilAcked(STEP);
  const master = await cluster.masterFor('{hopper:manual}');
  const replica = await replicaOf(cluster, master.port);
  // Run on the replica: a manual failover waits for it to catch up, so nothing is lost.
  await askNode(replica, (c) => c.call('CLUSTER', 'FAILOVER'));
  await untilMaster(cluster, '{hopper:manual}', replica);
  const before = load.acked.size;
  await load.untilAcked(before + STEP, 60_000);
  await settle(load);
  console.log(
    `CLUSTER FAILOVER: ${load.acked.size} acknowledged, ${load.completed.size} completed, ${load.runs - load.completed.size} extra runs, ${load.addErrors} add errors`,
  );
});

test("kill -9 of the busy queue's master with durability { replicas: 1 }: every acknowledged job completes", async () => {
  const load = new Load('killed', cluster.url, { durability: { replicas: 1, timeoutMs: 2000 } });
  loads.push(load);
  await load.untilAcked(STEP);
  const master = await cluster.masterFor('{hopper:killed}');
  const replica = await replicaOf(cluster, master.port);
  await master.kill9();
  const killedAt = load.acked.size;
  // A replica is promoted after cluster-node-timeout (2 s) and an election.
  await untilMaster(cluster, '{hopper:killed}', replica);
  // The promoted master has no replica of its own, so WAIT 1 cannot succeed (adds are
  // refused, not silently weakened) until the old master comes back as its replica.
  await master.restart();
  await load.untilAcked(killedAt + STEP, 60_000);
  await settle(load);
  assert.ok(load.runs >= load.completed.size);
  console.log(
    `kill -9: ${load.acked.size} acknowledged, ${load.completed.size} completed, ${load.runs - load.completed.size} extra runs, ${load.addErrors} add errors`,
  );
});

test("kill -9 of the busy queue's master, default mode: nothing stays active under the live worker, only adds the replica never had are lost", async () => {
  const load = new Load('killed-default', cluster.url);
  loads.push(load);
  await load.untilAcked(STEP);
  const master = await cluster.masterFor('{hopper:killed-default}');
  const replica = await replicaOf(cluster, master.port);
  await untilSynced(replica);
  await master.kill9();
  const killedAt = load.acked.size;
  await untilMaster(cluster, '{hopper:killed-default}', replica);
  await load.untilAcked(killedAt + STEP, 60_000);
  await load.stopProducing();
  await load.untilAllCompleted(30_000);
  // Asynchronous replication: the promoted replica may lack the last writes of every
  // client. Lost completions and fetches leave jobs recorded active under the live
  // worker, which does not hold them: its heartbeat finds Redis lacks the marks of its
  // answered calls and puts them back (heartbeat.lua), within a beat or two, not when the
  // worker is replaced. Nothing may stay active or waiting.
  const counts = await untilNothingLeft(load.queue);
  await load.untilAllCompleted(5000);
  assert.equal(counts.active, 0, 'nothing left in active under the live worker');
  assert.equal(counts.waiting, 0);
  // An acknowledged job that never completed must be one whose add the replica never had:
  // no record of it at all (docs/scaling.md, "What each mode guarantees").
  const missing = load.missing();
  for (const id of missing) assert.equal(await load.queue.getJob(id), null, `job ${id} exists but never ran`);
  console.log(
    `kill -9, default mode: ${load.acked.size} acknowledged, ${missing.length} lost with the master, ${load.runs - load.completed.size} extra runs, ${load.addErrors} add errors`,
  );
  await master.restart();
});

/** A replica must be in sync before its master is killed, or there is nothing to promote. */
async function untilSynced(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await askNode(port, (c) => c.info('replication')))?.includes('master_link_status:up')) {
    if (Date.now() > deadline) throw new Error(`replica ${port} did not sync`);
    await sleep(50);
  }
}
