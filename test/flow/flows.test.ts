import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  chain,
  childValues,
  type FlowChild,
  FlowProducer,
  fanIn,
  type Job,
  previousResult,
  type Queue,
} from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture();
const producer = () => fx.track(new FlowProducer({ connection: fx.url }));

/** Records each job's run: queue/id, and what a parent saw of its children. */
function recorder() {
  const runs: { ref: string; children: FlowChild[] }[] = [];
  const handler = (q: Queue) => async (job: Job<{ v?: number; fail?: boolean }>) => {
    const children = await job.children();
    runs.push({ ref: `${q.name}/${job.id}`, children });
    if (job.data?.fail) throw new Error(`boom ${job.id}`);
    return {
      from: job.id,
      v: job.data?.v ?? 0,
      sum: children.reduce((s, c) => s + ((c.result as { v?: number })?.v ?? 0), 0),
    };
  };
  return { runs, handler };
}

test('a parent runs after all its children, across queues, and reads their results', async () => {
  const [a, b, c] = [fx.queue('fa'), fx.queue('fb'), fx.queue('fc')];
  const flows = producer();
  const tree = await flows.add({
    name: 'parent',
    queue: a.name,
    opts: { jobId: 'p1' },
    children: [
      { name: 'k', queue: b.name, data: { v: 1 } },
      { name: 'k', queue: c.name, data: { v: 2 } },
      { name: 'k', queue: a.name, data: { v: 3 } },
    ],
  });
  assert.deepEqual(
    tree.children.map((n) => [n.queue, n.id, n.added]),
    [
      [b.name, 'p1/0', true],
      [c.name, 'p1/1', true],
      [a.name, 'p1/2', true],
    ],
  );
  assert.equal((await a.getJob('p1'))?.state, 'waiting-children');
  assert.equal((await a.getCounts()).waitingChildren, 1);
  assert.equal((await a.getCounts()).waiting, 1); // the child p1/2
  assert.deepEqual(
    (await a.getJobs('waiting-children')).map((j) => [j.id, j.state]),
    [['p1', 'waiting-children']],
  );
  const { runs, handler } = recorder();
  // Only queue a's worker first: the parent must not run while b's and c's children wait.
  fx.worker(a, handler(a));
  await waitFor('a child in a ran', () => runs.length === 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(
    runs.map((r) => r.ref),
    [`${a.name}/p1/2`],
  );
  assert.equal((await a.getJob('p1'))?.state, 'waiting-children');
  fx.worker(b, handler(b));
  fx.worker(c, handler(c));
  await waitFor('the parent completed', async () => (await a.getJob('p1'))?.state === 'completed');
  const parentRun = runs.find((r) => r.ref === `${a.name}/p1`)!;
  assert.equal(runs.at(-1)!.ref, `${a.name}/p1`);
  assert.equal(runs.filter((r) => r.ref === `${a.name}/p1`).length, 1);
  const seen = parentRun.children.map((ch) => [ch.queue, ch.id, ch.state, ch.result]).sort();
  assert.deepEqual(seen, [
    [a.name, 'p1/2', 'completed', { from: 'p1/2', v: 3, sum: 0 }],
    [b.name, 'p1/0', 'completed', { from: 'p1/0', v: 1, sum: 0 }],
    [c.name, 'p1/1', 'completed', { from: 'p1/1', v: 2, sum: 0 }],
  ]);
  assert.deepEqual((await a.getJob('p1'))?.returnValue, { from: 'p1', v: 0, sum: 6 });
  assert.equal((await a.getCounts()).waitingChildren, 0);
});

test('nested flows run bottom-up; adding the same flow twice makes one', async () => {
  const [a, b] = [fx.queue('na'), fx.queue('nb')];
  const flows = producer();
  const flow = {
    name: 'root',
    queue: a.name,
    opts: { jobId: 'root' },
    children: [
      {
        name: 'mid',
        queue: b.name,
        data: { v: 10 },
        children: [
          { name: 'leaf', queue: a.name, data: { v: 1 } },
          { name: 'leaf', queue: b.name, data: { v: 2 } },
        ],
      },
      { name: 'leaf', queue: b.name, data: { v: 5 } },
    ],
  };
  const first = await flows.add(flow);
  const again = await flows.add(flow);
  assert.equal(first.added, true);
  assert.equal(again.added, false);
  assert.equal(again.children[0]!.children[1]!.added, false);
  assert.deepEqual(await a.getCounts(), { ...(await a.getCounts()), waiting: 1, waitingChildren: 1 });
  assert.deepEqual(await b.getCounts(), { ...(await b.getCounts()), waiting: 2, waitingChildren: 1 });
  const { runs, handler } = recorder();
  fx.worker(a, handler(a), { concurrency: 4 });
  fx.worker(b, handler(b), { concurrency: 4 });
  await waitFor('the root completed', async () => (await a.getJob('root'))?.state === 'completed');
  const order = runs.map((r) => r.ref);
  assert.equal(order.length, 5, `each job ran once: ${order}`);
  assert.ok(order.indexOf(`${b.name}/root/0`) > order.indexOf(`${a.name}/root/0/0`));
  assert.ok(order.indexOf(`${b.name}/root/0`) > order.indexOf(`${b.name}/root/0/1`));
  assert.equal(order.at(-1), `${a.name}/root`);
  // mid's result carries its children's sum; root sums mid's v (10) and the leaf's (5).
  assert.deepEqual((await b.getJob('root/0'))?.returnValue, { from: 'root/0', v: 10, sum: 3 });
  assert.deepEqual((await a.getJob('root'))?.returnValue, { from: 'root', v: 0, sum: 15 });
});

test('bad flows are refused naming the field, and nothing is written', async () => {
  const a = fx.queue('bad');
  const flows = producer();
  const cases: [unknown, string][] = [
    [{ name: 'p', queue: a.name, children: [{ name: 'c' }] }, 'flow.children[0].queue'],
    [
      { name: 'p', queue: a.name, children: [{ name: 'c', queue: a.name, onFailure: 'maybe' }] },
      'flow.children[0].onFailure',
    ],
    [
      { name: 'p', queue: a.name, opts: { delay: 5 }, children: [{ name: 'c', queue: a.name }] },
      'flow.opts.delay',
    ],
    [
      {
        name: 'p',
        queue: a.name,
        children: [{ name: 'c', queue: a.name, opts: { dedup: { key: 'k', ttl: 1000 } } }],
      },
      'flow.children[0].opts.dedup',
    ],
    [{ name: 'p', queue: a.name, onFailure: 'fail' }, 'flow.onFailure'],
    [
      {
        name: 'p',
        queue: a.name,
        children: [
          { name: 'c', queue: a.name, opts: { jobId: 'x' } },
          { name: 'c', queue: a.name, opts: { jobId: 'x' } },
        ],
      },
      'flow.children[1].opts.jobId',
    ],
    [{ name: 'p', queue: a.name, children: 'no' }, 'flow.children'],
  ];
  for (const [flow, field] of cases) {
    await assert.rejects(
      flows.add(flow as never),
      (e: Error & { field?: string }) => e.name === 'ValidationError' && e.field === field,
      field,
    );
  }
  let deep: Record<string, unknown> = { name: 'l', queue: a.name };
  for (let i = 0; i < 20; i++) deep = { name: 'n', queue: a.name, children: [deep] };
  await assert.rejects(flows.add(deep as never), /deeper than the limit/);
  const counts = await a.getCounts();
  assert.equal(counts.waiting + counts.waitingChildren, 0);
});

test('a chain runs its steps in order, each reading the result before it; fanIn gathers results', async () => {
  const [a, b] = [fx.queue('ca'), fx.queue('cb')];
  const flows = producer();
  const order: string[] = [];
  const step = async (job: Job<{ add: number }>) => {
    order.push(job.name);
    const before = (await previousResult<number>(job)) ?? 0;
    return before * 10 + job.data.add;
  };
  fx.worker(a, step);
  fx.worker(b, step);
  await flows.add(
    chain([
      { name: 'one', queue: a.name, data: { add: 1 } },
      { name: 'two', queue: b.name, data: { add: 2 } },
      // The last step is the flow's root: its id names the chain.
      { name: 'three', queue: a.name, data: { add: 3 }, opts: { jobId: 'chain' } },
    ]),
  );
  await waitFor('the chain ended', async () => (await a.getJob('chain'))?.state === 'completed');
  assert.deepEqual(order, ['one', 'two', 'three']);
  assert.equal((await a.getJob('chain'))?.returnValue, 123);

  const sink = fx.queue('sink');
  fx.worker(sink, async (job) => childValues(await job.children()));
  await flows.add(
    fanIn(
      [1, 2, 3].map((n) => ({ name: 'src', queue: b.name, data: { add: n }, opts: { jobId: `src-${n}` } })),
      { name: 'sum', queue: sink.name, opts: { jobId: 'fan' } },
    ),
  );
  await waitFor('the fan-in ran', async () => (await sink.getJob('fan'))?.state === 'completed');
  assert.deepEqual((await sink.getJob('fan'))?.returnValue, { 'src-1': 1, 'src-2': 2, 'src-3': 3 });
});
