import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Queue, Worker } from '../../src/index.js';
import { type RedisClusterProcess, startCluster } from '../helpers/redis-cluster.js';
import { requireRedisServer } from '../helpers/redis-server.js';
import { quiet, waitFor } from '../helpers/worker-process.js';
import { ADMIN, call, type Login, login, startConsole } from './fixture.js';

/**
 * The console on a real Redis Cluster (3 masters, 3 replicas): every multi-queue read is
 * per queue (one hash tag per call), so queues on different masters are read together.
 */
requireRedisServer();
let cluster: RedisClusterProcess;
let app: FastifyInstance;
let base: string;
let admin: Login;
const open: { close(): Promise<void> }[] = [];

before(async () => {
  cluster = await startCluster();
  ({ app, base } = await startConsole(cluster.url, { HOPPER_DASHBOARD_INTERVAL: '250' }));
  admin = await login(base, ADMIN);
});
after(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
  await app?.close();
  await cluster?.stop();
});

test('overview, a queue page, a job and a retry, with queues on every master', async () => {
  // Names whose hash tags land on all three masters: no read can pass by luck of placement.
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < 3 && i < 200; i++) {
    const name = `console-c${i}`;
    const port = (await cluster.masterFor(`{hopper:${name}}`)).port;
    if (!byMaster.has(port)) byMaster.set(port, name);
  }
  const names = [...byMaster.values()];
  assert.equal(names.length, 3);
  const queues = names.map((n) => {
    const q = new Queue(n, { connection: cluster.url, logger: quiet });
    open.push(q);
    return q;
  });
  let fail = true;
  const ids: string[] = [];
  for (const [i, q] of queues.entries()) {
    await q.addBulk(Array.from({ length: i + 1 }, (_, j) => ({ name: 'w', data: { j } })));
    ids.push(await q.add('f', { fail: true }));
  }
  const w = new Worker<{ fail?: boolean }>(
    names[0]!,
    (job) => {
      if (job.data.fail && fail) throw new Error('cluster failure');
    },
    { connection: cluster.url, logger: quiet },
  );
  open.push(w);
  await waitFor('the failing job to fail', async () => (await queues[0]!.getCounts()).failed === 1);

  const o = await call(base, admin, 'GET', 'overview');
  assert.equal(o.status, 200, JSON.stringify(o.body));
  for (const q of queues) {
    const row = o.body.queues.find((x: { name: string }) => x.name === q.name);
    assert.deepEqual(row.counts, await q.getCounts(), q.name);
  }
  const second = o.body.queues.find((x: { name: string }) => x.name === names[1]);
  assert.equal(second.counts.waiting, 3);
  assert.ok(second.oldestWaitMs >= 0);

  const page = await call(base, admin, 'GET', `queues/${names[2]}/jobs?state=waiting`);
  assert.equal(page.status, 200);
  assert.equal(page.body.total, 4);
  assert.equal(page.body.jobs.length, 4);

  const job = await call(base, admin, 'GET', `queues/${names[0]}/jobs/${ids[0]}`);
  assert.equal(job.body.state, 'failed');
  assert.equal(job.body.attempts[0].message, 'cluster failure');

  assert.equal((await call(base, admin, 'GET', 'workers')).status, 200);
  fail = false;
  const retried = await call(base, admin, 'POST', `queues/${names[0]}/actions/retry`, { ids: [ids[0]] });
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  await waitFor(
    'the retried job to complete',
    async () => (await queues[0]!.getJob(ids[0]!))?.state === 'completed',
  );
});
