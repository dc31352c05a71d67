import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from '../../src/index.js';
import { runCli } from '../cli/run.js';
import { askNode } from '../helpers/redis-cluster.js';
import { SENTINEL_MASTER, type SentinelSetup, startSentinels } from '../helpers/redis-sentinel.js';
import { requireRedisServer } from '../helpers/redis-server.js';
import { Load, quiet, STEP } from './load.js';

/** Sentinel (1 master, 1 replica, 3 sentinels): the redis+sentinel:// URL, and SENTINEL FAILOVER under load. */
requireRedisServer();
let setup: SentinelSetup;
const loads: Load[] = [];
before(async () => {
  setup = await startSentinels();
});
after(async () => {
  await Promise.all(loads.map((l) => l.close()));
  await setup?.stop();
});

test('redis+sentinel:// reaches the master: queue, CLI ping', async () => {
  const q = new Queue('s', { connection: setup.url, logger: quiet });
  const id = await q.add('x', {});
  await q.close();
  assert.equal(await askNode(setup.master.port, (c) => c.hexists('{hopper:s}:jobs', id)), 1);
  const ping = await runCli(setup.url, ['ping']);
  assert.equal(ping.code, 0, ping.stderr);
  assert.match(ping.stdout, new RegExp(`found through Sentinel \\(master "${SENTINEL_MASTER}"\\)`));
});

test('SENTINEL FAILOVER under load: producers and workers follow the new master, every acknowledged job completes', async () => {
  const load = new Load('busy', setup.url);
  loads.push(load);
  await load.untilAcked(STEP);
  const old = await setup.currentMasterPort();
  await askNode(setup.sentinels[0]!.port, (c) => c.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER));
  const deadline = Date.now() + 20_000;
  while ((await setup.currentMasterPort()) === old) {
    if (Date.now() > deadline) throw new Error('sentinel failover did not happen');
    await sleep(50);
  }
  const at = load.acked.size;
  await load.untilAcked(at + STEP, 60_000);
  await load.stopProducing();
  await load.untilAllCompleted(30_000);
  assert.deepEqual(
    load.missing().slice(0, 5),
    [],
    `${load.missing().length} acknowledged jobs never completed`,
  );
  const counts = await load.queue.getCounts();
  assert.equal(counts.active, 0);
  assert.equal(counts.waiting, 0);
});
