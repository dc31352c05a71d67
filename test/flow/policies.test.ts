import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FailurePolicy,
  type FlowChild,
  FlowProducer,
  type Job,
  JobFailedError,
  type Queue,
  QueueEvents,
} from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture();
const producer = () => fx.track(new FlowProducer({ connection: fx.url }));

/** A worker on `q` whose jobs fail while `failing` holds their id; parents record what they saw. */
function run(q: Queue, failing: Set<string>, seen: Map<string, FlowChild[]>, runs: string[]) {
  return fx.worker(q, async (job: Job) => {
    runs.push(job.id);
    seen.set(job.id, await job.children());
    if (failing.has(job.id)) throw new Error(`boom ${job.id}`);
    return job.id;
  });
}

async function flowWith(policy: FailurePolicy, a: Queue, b: Queue, id: string) {
  await producer().add({
    name: 'p',
    queue: a.name,
    opts: { jobId: id },
    children: [
      { name: 'ok', queue: b.name },
      { name: 'bad', queue: b.name, onFailure: policy },
    ],
  });
}

test("policy 'fail': the parent fails naming the child; retrying the child lets the flow go on", async () => {
  const [a, b] = [fx.queue('pfa'), fx.queue('pfb')];
  const failing = new Set(['f1/1']);
  const seen = new Map<string, FlowChild[]>();
  const runs: string[] = [];
  await flowWith('fail', a, b, 'f1');
  run(a, failing, seen, runs);
  run(b, failing, seen, runs);
  await waitFor('the parent failed', async () => (await a.getJob('f1'))?.state === 'failed');
  const parent = await a.getJob('f1');
  assert.equal(parent?.error?.name, 'ChildFailedError');
  assert.match(parent!.error!.message, new RegExp(`child ${b.name}/f1/1 failed: boom f1/1`));
  assert.equal((await a.getCounts()).waitingChildren, 0);
  assert.equal((await a.getCounts()).failed, 1);
  assert.ok(!runs.includes('f1'), 'the parent never ran');
  failing.clear();
  await b.retry('f1/1');
  await waitFor('the parent completed', async () => (await a.getJob('f1'))?.state === 'completed');
  assert.equal(runs.filter((r) => r === 'f1').length, 1);
  assert.deepEqual(
    seen
      .get('f1')!
      .map((c) => [c.id, c.state, c.result])
      .sort(),
    [
      ['f1/0', 'completed', 'f1/0'],
      ['f1/1', 'completed', 'f1/1'],
    ],
  );
});

test("policy 'fail': the parent's failure is an event: a QueueEvents listener and waitUntilFinished hear it", async () => {
  const [a, b] = [fx.queue('pev'), fx.queue('pevb')];
  const events = fx.track(new QueueEvents(a.name, { connection: fx.connection }));
  await events.waitUntilReady();
  const heard: string[] = [];
  events.on('failed', ({ jobId }) => heard.push(jobId));
  await flowWith('fail', a, b, 'e1');
  const finished = events.waitUntilFinished('e1', 20_000);
  run(b, new Set(['e1/1']), new Map(), []);
  await assert.rejects(
    finished,
    (e) => e instanceof JobFailedError && /child .*e1\/1 failed/.test(e.message),
  );
  await waitFor('the failed event', () => heard.includes('e1'));
});

test("policy 'fail' with other children pending: the retried child's completion puts the parent back to waiting", async () => {
  const [a, b] = [fx.queue('pwa'), fx.queue('pwb')];
  await producer().add({
    name: 'p',
    queue: a.name,
    opts: { jobId: 'w1' },
    children: [
      { name: 'slow', queue: a.name, opts: { delay: 60_000 } },
      { name: 'bad', queue: b.name },
    ],
  });
  const failing = new Set(['w1/1']);
  const seen = new Map<string, FlowChild[]>();
  const runs: string[] = [];
  run(b, failing, seen, runs);
  await waitFor('the parent failed', async () => (await a.getJob('w1'))?.state === 'failed');
  failing.clear();
  await b.retry('w1/1');
  await waitFor('the parent waits again', async () => (await a.getJob('w1'))?.state === 'waiting-children');
  assert.equal((await a.getCounts()).failed, 0);
  assert.equal((await a.getCounts()).waitingChildren, 1);
});

test("policy 'continue': the parent runs and sees the failure listed", async () => {
  const [a, b] = [fx.queue('pca'), fx.queue('pcb')];
  const seen = new Map<string, FlowChild[]>();
  const runs: string[] = [];
  await flowWith('continue', a, b, 'c1');
  run(a, new Set(['c1/1']), seen, runs);
  run(b, new Set(['c1/1']), seen, runs);
  await waitFor('the parent completed', async () => (await a.getJob('c1'))?.state === 'completed');
  const children = seen.get('c1')!.sort((x, y) => x.id.localeCompare(y.id));
  assert.deepEqual(
    children.map((c) => [c.id, c.state, c.onFailure]),
    [
      ['c1/0', 'completed', undefined],
      ['c1/1', 'failed', 'continue'],
    ],
  );
  assert.equal(children[1]!.error?.message, 'boom c1/1');
});

test("policy 'ignore': the parent runs as if the failed child were not there", async () => {
  const [a, b] = [fx.queue('pia'), fx.queue('pib')];
  const seen = new Map<string, FlowChild[]>();
  const runs: string[] = [];
  await flowWith('ignore', a, b, 'i1');
  run(a, new Set(), seen, runs);
  run(b, new Set(['i1/1']), seen, runs);
  await waitFor('the parent completed', async () => (await a.getJob('i1'))?.state === 'completed');
  assert.deepEqual(
    seen.get('i1')!.map((c) => [c.id, c.state]),
    [['i1/0', 'completed']],
  );
});

test('a failure that still has attempts left does not reach the parent; the final outcome does', async () => {
  const [a, b] = [fx.queue('ra'), fx.queue('rb')];
  let tries = 0;
  await producer().add({
    name: 'p',
    queue: a.name,
    opts: { jobId: 'r1' },
    children: [{ name: 'flaky', queue: b.name, opts: { attempts: 3 } }],
  });
  fx.worker(b, async () => {
    if (++tries < 3) throw new Error('not yet');
    return 'third time';
  });
  const seen: FlowChild[][] = [];
  fx.worker(a, async (job) => void seen.push(await job.children()));
  await waitFor('the parent completed', async () => (await a.getJob('r1'))?.state === 'completed');
  assert.equal(tries, 3);
  assert.deepEqual(
    seen[0]!.map((c) => [c.state, c.result]),
    [['completed', 'third time']],
  );
});

test('removing a parent removes its pending children; removing a child lets its parent go on without it', async () => {
  const [a, b] = [fx.queue('ma'), fx.queue('mb')];
  const flows = producer();
  await flows.add({
    name: 'p',
    queue: a.name,
    opts: { jobId: 'm1' },
    children: [
      { name: 'c', queue: b.name, children: [{ name: 'g', queue: a.name }] },
      { name: 'c', queue: b.name },
    ],
  });
  assert.equal(await flows.remove(a.name, 'm1'), true);
  for (const [q, id] of [
    [a, 'm1'],
    [b, 'm1/0'],
    [a, 'm1/0/0'],
    [b, 'm1/1'],
  ] as const)
    assert.equal(await q.getJob(id), null, `${q.name}/${id} is gone`);
  assert.deepEqual(await a.getCounts(), { ...(await a.getCounts()), waiting: 0, waitingChildren: 0 });
  assert.deepEqual(await b.getCounts(), { ...(await b.getCounts()), waiting: 0, waitingChildren: 0 });
  assert.equal(await flows.remove(a.name, 'm1'), false);

  // The reverse: a removed child is no longer waited for.
  await flows.add({
    name: 'p',
    queue: a.name,
    opts: { jobId: 'm2' },
    children: [
      { name: 'c', queue: b.name, opts: { delay: 60_000 } },
      { name: 'c', queue: b.name },
    ],
  });
  const seen: FlowChild[][] = [];
  fx.worker(a, async (job) => void seen.push(await job.children()));
  fx.worker(b, async (job) => job.id);
  await waitFor('one child done', async () => (await b.getJob('m2/1'))?.state === 'completed');
  assert.equal((await a.getJob('m2'))?.state, 'waiting-children');
  assert.equal(await flows.remove(b.name, 'm2/0'), true);
  await waitFor('the parent completed', async () => (await a.getJob('m2'))?.state === 'completed');
  assert.deepEqual(seen[0]!.map((c) => [c.id, c.state]).sort(), [
    ['m2/0', 'removed'],
    ['m2/1', 'completed'],
  ]);
});
