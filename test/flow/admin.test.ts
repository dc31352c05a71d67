import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FlowChild, FlowProducer } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture();
const producer = () => fx.track(new FlowProducer({ connection: fx.url }));

test('Queue.remove of a parent removes its pending children in other queues, and theirs', async () => {
  const [a, b] = [fx.queue('ra'), fx.queue('rb')];
  await producer().add({
    name: 'p',
    queue: a.name,
    opts: { jobId: 'q1' },
    children: [
      { name: 'c', queue: b.name, children: [{ name: 'g', queue: a.name }] },
      { name: 'c', queue: b.name, opts: { delay: 60_000 } },
    ],
  });
  assert.equal((await a.getCounts()).waitingChildren, 1);
  assert.equal(await a.remove('q1'), true);
  for (const [q, id] of [
    [a, 'q1'],
    [b, 'q1/0'],
    [a, 'q1/0/0'],
    [b, 'q1/1'],
  ] as const)
    assert.equal(await q.getJob(id), null, `${q.name}/${id} is gone`);
  const [ca, cb] = [await a.getCounts(), await b.getCounts()];
  assert.deepEqual(
    [ca.waiting, ca.waitingChildren, cb.waiting, cb.delayed, cb.waitingChildren],
    [0, 0, 0, 0, 0],
  );
});

test('Queue.remove of a child: its parent stops waiting for it and runs when it was the last pending', async () => {
  const [a, b] = [fx.queue('sa'), fx.queue('sb')];
  await producer().add({
    name: 'p',
    queue: a.name,
    opts: { jobId: 's1' },
    children: [
      { name: 'c', queue: b.name, opts: { delay: 60_000 } },
      { name: 'c', queue: b.name, opts: { delay: 60_000 } },
    ],
  });
  const seen: FlowChild[][] = [];
  fx.worker(a, async (job) => void seen.push(await job.children()));
  assert.equal(await b.remove('s1/0'), true);
  assert.equal((await a.getJob('s1'))?.state, 'waiting-children', 'one child still pending');
  assert.equal(await b.remove('s1/1'), true);
  await waitFor('the parent completed', async () => (await a.getJob('s1'))?.state === 'completed');
  assert.deepEqual(seen[0]!.map((c) => [c.id, c.state]).sort(), [
    ['s1/0', 'removed'],
    ['s1/1', 'removed'],
  ]);
});

test('drain: parents waiting for children stay; drained children count as removed, so their parent runs', async () => {
  const [a, b] = [fx.queue('da'), fx.queue('db')];
  await producer().addBulk(
    ['d1', 'd2'].map((id) => ({
      name: 'p',
      queue: a.name,
      opts: { jobId: id },
      children: [
        { name: 'c', queue: b.name },
        { name: 'c', queue: b.name, opts: { delay: 60_000 } },
      ],
    })),
  );
  await a.add('plain', {});
  // The parents' queue: its waiting job goes, its parents waiting for children stay.
  assert.equal(await a.drain(), 1);
  assert.equal((await a.getCounts()).waitingChildren, 2);
  // The children's queue: four children drained, each parent told at once (no worker of b runs).
  const seen = new Map<string, FlowChild[]>();
  fx.worker(a, async (job) => void seen.set(job.id, await job.children()));
  assert.equal(await b.drain(), 4);
  await waitFor('both parents completed', async () => seen.size === 2);
  for (const id of ['d1', 'd2']) {
    assert.equal((await a.getJob(id))?.state, 'completed');
    assert.deepEqual(
      seen.get(id)!.map((c) => c.state),
      ['removed', 'removed'],
    );
  }
});
