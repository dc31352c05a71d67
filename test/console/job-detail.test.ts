import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FlowProducer, Queue } from '../../src/index.js';
import { partitionOfGroup, partitionOfId } from '../../src/queue/partitions/layout.js';
import type { PartitionedQueue } from '../../src/queue/partitions/queue.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';
import { ADMIN, call, type Login, login, startConsole, VIEWER } from './fixture.js';

/** A job's detail in the console API: every failed attempt kept, and its place in a flow. */
const fx = new QueueFixture();
let app: FastifyInstance;
let base: string;
let admin: Login;
let viewer: Login;

describe('console job detail', () => {
  before(async () => {
    ({ app, base } = await startConsole(fx.url, { HOPPER_DASHBOARD_INTERVAL: '250' }));
    admin = await login(base, ADMIN);
    viewer = await login(base, VIEWER);
  });
  after(() => app.close());

  test('a job shows every failed attempt (stacks for admins only)', async () => {
    const q = fx.queue('api-attempts');
    const id = await q.add('charge', {}, { attempts: 3, backoff: 0 });
    let n = 0;
    const w = fx.worker(q, () => {
      throw new Error(`declined ${++n}`);
    });
    await waitFor('the job to fail 3 times', async () => (await q.getJob(id))?.state === 'failed');
    await w.close();
    const seen = (await call(base, admin, 'GET', `queues/${q.name}/jobs/${id}`)).body;
    assert.deepEqual(
      seen.attempts.map((a: { attempt: number; message: string }) => [a.attempt, a.message]),
      [1, 2, 3].map((i) => [i, `declined ${i}`]),
    );
    for (const a of seen.attempts) assert.match(a.stack, /^Error: declined \d\n\s+at /);
    const hidden = (await call(base, viewer, 'GET', `queues/${q.name}/jobs/${id}`)).body;
    assert.equal(hidden.attempts.length, 3);
    assert.ok(hidden.attempts.every((a: { stack?: string }) => a.stack === undefined));
  });

  test('flows: waiting-children counted and listed; a job shows its parent and children with their states', async () => {
    const parentQ = fx.queue('api-flow-parent');
    const childQ = fx.queue('api-flow-child');
    const flows = new FlowProducer({ connection: fx.connection });
    const tree = await flows.add({
      name: 'report',
      queue: parentQ.name,
      opts: { jobId: 'rep-1' },
      children: [
        { name: 'part', queue: childQ.name, opts: { jobId: 'a' } },
        { name: 'part', queue: childQ.name, opts: { jobId: 'b' }, onFailure: 'continue' },
        { name: 'part', queue: childQ.name, opts: { jobId: 'c', delay: 3600_000 } },
      ],
    });
    await flows.close();
    const w = fx.worker(childQ, (job) => {
      if (job.id !== 'a') throw new Error('not now');
    });
    const kids = async () =>
      (await call(base, admin, 'GET', `queues/${parentQ.name}/jobs/${tree.id}`)).body.flow.children
        .map((c: { queue: string; id: string; state: string }) => [c.queue, c.id, c.state])
        .sort();
    const want = [
      [childQ.name, 'a', 'completed'],
      [childQ.name, 'b', 'failed'],
      [childQ.name, 'c', 'pending'],
    ];
    await waitFor(
      'the parent to see one child completed, one failed',
      async () => JSON.stringify(await kids()) === JSON.stringify(want),
    );
    await w.close();
    const row = (await call(base, admin, 'GET', 'overview')).body.queues.find(
      (x: { name: string }) => x.name === parentQ.name,
    );
    assert.equal(row.counts.waitingChildren, 1);
    const list = await call(base, admin, 'GET', `queues/${parentQ.name}/jobs?state=waiting-children`);
    assert.deepEqual(
      list.body.jobs.map((j: { id: string }) => j.id),
      [tree.id],
    );
    const parent = (await call(base, admin, 'GET', `queues/${parentQ.name}/jobs/${tree.id}`)).body;
    assert.equal(parent.state, 'waiting-children');
    assert.equal(parent.flow.childrenTotal, 3);
    assert.equal(parent.flow.parent, undefined);
    const child = (await call(base, admin, 'GET', `queues/${childQ.name}/jobs/a`)).body;
    assert.deepEqual(child.flow.parent, {
      queue: parentQ.name,
      id: tree.id,
      state: 'waiting-children',
      onFailure: 'fail',
    });
  });

  test('flows through partitioned queues: links name the queues, not their partitions', async () => {
    const open = (label: string) =>
      fx.track(new Queue(uniqueName(label), { connection: fx.connection, logger: quiet, partitions: 3 }));
    const [parentQ, childQ] = [open('api-pflow-parent'), open('api-pflow-child')];
    await Promise.all([parentQ, childQ].map((q) => (q as unknown as PartitionedQueue).waitUntilReady()));
    const flows = new FlowProducer({ connection: fx.connection });
    // The grouped child lives in its group's partition, not the one its id names.
    const group = ['a', 'b', 'c', 'd'].find((g) => partitionOfGroup(g, 3) !== partitionOfId('g-kid', 3))!;
    await flows.add({
      name: 'report',
      queue: parentQ.name,
      opts: { jobId: 'prep-1' },
      children: [
        { name: 'part', queue: childQ.name, opts: { jobId: 'x' } },
        { name: 'part', queue: childQ.name, opts: { jobId: 'g-kid', group } },
      ],
    });
    await flows.close();
    const parent = (await call(base, admin, 'GET', `queues/${parentQ.name}/jobs/prep-1`)).body;
    assert.equal(parent.state, 'waiting-children');
    assert.deepEqual(
      parent.flow.children
        .map((c: { queue: string; id: string; state: string }) => [c.queue, c.id, c.state])
        .sort(),
      [
        [childQ.name, 'g-kid', 'pending'],
        [childQ.name, 'x', 'pending'],
      ],
    );
    for (const id of ['x', 'g-kid']) {
      const child = (await call(base, admin, 'GET', `queues/${childQ.name}/jobs/${id}`)).body;
      assert.deepEqual(child.flow.parent, {
        queue: parentQ.name,
        id: 'prep-1',
        state: 'waiting-children',
        onFailure: 'fail',
      });
    }
  });
});
