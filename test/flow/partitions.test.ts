import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FlowChild,
  type FlowNodeIds,
  FlowProducer,
  type Job,
  JobFailedError,
  Queue,
  QueueEvents,
  ValidationError,
  Worker,
} from '../../src/index.js';
import { partitionNames, partitionOfGroup, partitionOfId } from '../../src/queue/partitions/layout.js';
import { runCli } from '../cli/run.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';

/**
 * Flows through partitioned queues (docs/flows.md, "Partitioned queues"): each flow job of
 * a partitioned queue lives in one partition (by group, else by id), its links name that
 * partition, and what users read names the partitioned queue.
 */
const fx = new RedisFixture({ closeAfterEach: true });
const N = 3;
const LONG = 30_000;
const producer = () => fx.track(new FlowProducer({ connection: fx.connection }));

/** A queue: partitioned (N) unless `plain`; its count recorded before any flow names it. */
async function queue(label: string, plain = false): Promise<Queue> {
  const q = fx.track(
    new Queue(uniqueName(label), {
      connection: fx.connection,
      logger: quiet,
      partitions: plain ? undefined : N,
    }),
  );
  if (!plain) await (q as unknown as { waitUntilReady(): Promise<void> }).waitUntilReady();
  return q;
}

type Data = { v?: number };

/** A worker (partitioned when the queue is) recording runs and what parents saw of their children. */
function work(
  q: Queue,
  plain: boolean,
  runs: string[],
  seen: Map<string, FlowChild[]>,
  failing = new Set<string>(),
) {
  const w = fx.track(
    new Worker<Data>(
      q.name,
      async (job: Job<Data>) => {
        runs.push(`${q.name}/${job.id}`);
        const children = await job.children();
        if (children.length > 0) seen.set(`${q.name}/${job.id}`, children);
        if (failing.has(job.id)) throw new Error(`boom ${job.id}`);
        return { v: (job.data?.v ?? 0) + children.reduce((s, c) => s + ((c.result as Data)?.v ?? 0), 0) };
      },
      { connection: fx.connection, logger: quiet, metrics: false, partitions: plain ? undefined : N },
    ),
  );
  w.on('error', () => {});
  return w;
}

/** The partition index holding job `id` of partitioned queue `name` (raw HEXISTS of each partition). */
async function partitionHolding(name: string, id: string): Promise<number[]> {
  const names = partitionNames('hopper', name, N);
  const found = await Promise.all(names.map((p) => fx.raw.hexists(`{hopper:${p}}:jobs`, id)));
  return found.flatMap((f, i) => (f ? [i] : []));
}

const flat = (n: FlowNodeIds): FlowNodeIds[] => [n, ...n.children.flatMap(flat)];

test('a parent in a partitioned queue runs once, after its children in another partitioned queue and a plain one, with their results', async () => {
  const [p, c, l] = [await queue('fpp'), await queue('fpc'), await queue('fpl', true)];
  const flows = producer();
  const flow = {
    name: 'parent',
    queue: p.name,
    opts: { jobId: 'root' },
    data: { v: 1000 },
    children: [
      ...Array.from({ length: 8 }, () => ({ name: 'k', queue: c.name, data: { v: 1 } })),
      { name: 'grouped', queue: c.name, data: { v: 1 }, opts: { group: 'g1', jobId: 'grouped-1' } },
      { name: 'k', queue: l.name, data: { v: 10 } },
      // A nested parent in the same partitioned queue as the root; its children in c.
      {
        name: 'mid',
        queue: p.name,
        data: { v: 100 },
        children: [
          { name: 'k', queue: c.name, data: { v: 1 } },
          { name: 'k', queue: p.name, data: { v: 1 } },
        ],
      },
    ],
  };
  const tree = await flows.add(flow);
  // What add returns names the queues as the user did.
  assert.deepEqual([...new Set(flat(tree).map((n) => n.queue))].sort(), [p.name, c.name, l.name].sort());
  assert.ok(flat(tree).every((n) => n.added));
  // Each job lives in one partition: by its id, or by its group; children spread over several.
  const used = new Set<number>();
  for (const n of flat(tree).filter((n) => n.queue === c.name)) {
    const where = await partitionHolding(c.name, n.id);
    const expected = n.id === 'grouped-1' ? partitionOfGroup('g1', N) : partitionOfId(n.id, N);
    assert.deepEqual(where, [expected], `${n.id} in its partition`);
    used.add(where[0]!);
  }
  assert.ok(used.size >= 2, `children spread over ${used.size} partitions`);
  assert.deepEqual(await partitionHolding(p.name, 'root'), [partitionOfId('root', N)]);
  // Only the queues' own names are registered: never a partition's.
  const registered = await fx.raw.smembers('hopper:queues');
  assert.ok([p.name, c.name, l.name].every((q) => registered.includes(q)));
  assert.ok(!registered.some((q) => q.includes('#')), `no partition registered: ${registered}`);
  // The partitioned Queue finds flow jobs by id, in their state, linked by the queue's name.
  const root = await p.getJob('root');
  assert.equal(root?.state, 'waiting-children');
  assert.equal((await p.getJob('root/10'))?.state, 'waiting-children');
  assert.equal((await p.getCounts()).waitingChildren, 2);
  const child = await c.getJob('root/3');
  assert.equal(child?.state, 'waiting');
  assert.deepEqual((child!.opts as { parent?: unknown }).parent, {
    queue: p.name,
    id: 'root',
    onFailure: 'fail',
  });
  assert.equal((await c.getJob('grouped-1'))?.state, 'waiting');
  // Adding the same flow again adds nothing.
  const before = await Promise.all([p, c, l].map((q) => q.getCounts()));
  const again = await flows.add(flow);
  assert.ok(
    flat(again).every((n) => !n.added),
    'nothing added twice',
  );
  assert.deepEqual(await Promise.all([p, c, l].map((q) => q.getCounts())), before);
  // Before any worker: the children as the parent will see them.
  const pending = await flows.getChildren(p.name, 'root');
  assert.equal(pending.length, 11);
  assert.ok(pending.every((ch) => ch.state === 'pending' && !ch.queue.includes('#')));

  const runs: string[] = [];
  const seen = new Map<string, FlowChild[]>();
  work(p, false, runs, seen);
  work(c, false, runs, seen);
  work(l, true, runs, seen);
  await waitFor('the parent completed', async () => (await p.getJob('root'))?.state === 'completed', LONG);
  const ref = `${p.name}/root`;
  assert.equal(runs.filter((r) => r === ref).length, 1, 'the parent ran once');
  assert.equal(runs.at(-1), ref, 'the parent ran last');
  assert.equal(runs.length, 14);
  const kids = seen.get(ref)!;
  assert.deepEqual(
    kids.map((k) => [k.queue, k.id, k.state, k.result]).sort(),
    [
      ...Array.from({ length: 8 }, (_, i) => [c.name, `root/${i}`, 'completed', { v: 1 }]),
      [c.name, 'grouped-1', 'completed', { v: 1 }],
      [l.name, 'root/9', 'completed', { v: 10 }],
      [p.name, 'root/10', 'completed', { v: 102 }],
    ].sort(),
  );
  assert.deepEqual(
    seen
      .get(`${p.name}/root/10`)!
      .map((k) => k.queue)
      .sort(),
    [c.name, p.name].sort(),
  );
  assert.deepEqual((await p.getJob('root'))?.returnValue, { v: 1121 });
  assert.deepEqual(
    (await flows.getChildren(p.name, 'root')).map((k) => [k.queue, k.id]).sort(),
    kids.map((k) => [k.queue, k.id]).sort(),
  );
});

test("policy 'fail' across partitioned queues: the parent fails naming the child's queue; retrying the child through its partitioned Queue lets the flow go on", async () => {
  const [p, c] = [await queue('fpfp'), await queue('fpfc')];
  const flows = producer();
  await flows.add({
    name: 'parent',
    queue: p.name,
    opts: { jobId: 'f1' },
    children: [
      { name: 'ok', queue: c.name, data: { v: 1 } },
      { name: 'bad', queue: c.name, data: { v: 2 } },
    ],
  });
  const runs: string[] = [];
  const seen = new Map<string, FlowChild[]>();
  const failing = new Set(['f1/1']);
  work(p, false, runs, seen);
  work(c, false, runs, seen, failing);
  await waitFor('the parent failed', async () => (await p.getJob('f1'))?.state === 'failed', LONG);
  const failed = await p.getJob('f1');
  assert.equal(failed?.error?.name, 'ChildFailedError');
  assert.equal(failed!.error!.message, `child ${c.name}/f1/1 failed: boom f1/1`);
  assert.equal((failed!.error as unknown as { child: { queue: string } }).child.queue, c.name);
  assert.equal(failed!.errors?.at(-1)?.error.message, failed!.error!.message);
  assert.ok(!runs.includes(`${p.name}/f1`), 'the parent never ran');
  const events = fx.track(new QueueEvents(p.name, { connection: fx.connection, partitions: N }));
  await assert.rejects(
    events.waitUntilFinished('f1', LONG),
    (e) =>
      e instanceof JobFailedError &&
      e.message === `job f1 failed: ChildFailedError: ${failed!.error!.message}`,
  );
  // `hopper job` says the queue's name too.
  const cli = await runCli(fx.url, ['job', p.name, 'f1']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, new RegExp(`ChildFailedError: child ${c.name}/f1/1 failed`));
  assert.ok(!cli.stdout.includes('#'), cli.stdout);
  failing.clear();
  await c.retry('f1/1');
  await waitFor('the parent completed', async () => (await p.getJob('f1'))?.state === 'completed', LONG);
  assert.equal(runs.filter((r) => r === `${p.name}/f1`).length, 1);
  assert.deepEqual(
    seen
      .get(`${p.name}/f1`)!
      .map((k) => [k.queue, k.id, k.state])
      .sort(),
    [
      [c.name, 'f1/0', 'completed'],
      [c.name, 'f1/1', 'completed'],
    ],
  );
});

test('removing a parent through its partitioned Queue removes its children in every partition; removing a child tells its parent', async () => {
  const [p, c, l] = [await queue('fprp'), await queue('fprc'), await queue('fprl', true)];
  const flows = producer();
  const children = [
    ...Array.from({ length: 9 }, () => ({ name: 'k', queue: c.name })),
    { name: 'k', queue: l.name },
    { name: 'mid', queue: p.name, children: [{ name: 'k', queue: c.name }] },
  ];
  await flows.add({ name: 'parent', queue: p.name, opts: { jobId: 'r1' }, children });
  const used = new Set<number>();
  for (let i = 0; i < 9; i++) for (const at of await partitionHolding(c.name, `r1/${i}`)) used.add(at);
  assert.equal(used.size, N, 'the children are in every partition');
  assert.equal(await p.remove('r1'), true);
  for (let i = 0; i < 9; i++) assert.equal(await c.getJob(`r1/${i}`), null, `r1/${i} removed`);
  assert.equal(await l.getJob('r1/9'), null);
  assert.equal(await p.getJob('r1/10'), null);
  assert.equal(await c.getJob('r1/10/0'), null);
  const left = await Promise.all(
    [p.name, c.name]
      .flatMap((q) => partitionNames('hopper', q, N))
      .map((q) => fx.raw.hlen(`{hopper:${q}}:jobs`)),
  );
  assert.deepEqual(left, new Array(2 * N).fill(0), 'no job left in any partition');

  // A grouped parent lives in its group's partition; FlowProducer.remove finds it there.
  const group = ['a', 'b', 'c', 'd', 'e'].find((g) => partitionOfGroup(g, N) !== partitionOfId('r2', N))!;
  await flows.add({
    name: 'parent',
    queue: p.name,
    opts: { jobId: 'r2', group },
    children: [
      { name: 'k', queue: c.name },
      { name: 'k', queue: c.name },
    ],
  });
  assert.equal((await p.getJob('r2'))?.state, 'waiting-children');
  // Removing one child (through the partitioned Queue) tells the parent, by the queue's name.
  assert.equal(await c.remove('r2/0'), true);
  await waitFor('the parent heard of the removal', async () =>
    (await flows.getChildren(p.name, 'r2')).some((k) => k.state === 'removed'),
  );
  assert.deepEqual((await flows.getChildren(p.name, 'r2')).map((k) => [k.queue, k.id, k.state]).sort(), [
    [c.name, 'r2/0', 'removed'],
    [c.name, 'r2/1', 'pending'],
  ]);
  assert.equal(await flows.remove(p.name, 'r2'), true);
  assert.equal(await c.getJob('r2/1'), null);
  assert.equal(await p.getJob('r2'), null);
  assert.equal(await flows.remove(p.name, 'r2'), false);
});

test("a flow naming a partition's own queue (q#k) is refused, naming the field, and writes nothing", async () => {
  const c = await queue('fpbad');
  const plain = uniqueName('fpbad-parent');
  const inner = partitionNames('hopper', c.name, N)[1]!;
  const flows = producer();
  await assert.rejects(
    flows.add({ name: 'p', queue: plain, children: [{ name: 'c', queue: inner }] }),
    (e) =>
      e instanceof ValidationError &&
      e.field === 'flow.children[0].queue' &&
      e.message.includes(`partitioned queue ${JSON.stringify(c.name)}`),
  );
  assert.equal(await fx.raw.exists(`{hopper:${plain}}:jobs`), 0);
  assert.equal(await fx.raw.sismember('hopper:queues', plain), 0);
  assert.equal(await fx.raw.sismember('hopper:queues', inner), 0);
  // A plain queue whose name merely looks like a partition's is a queue like any other.
  const lookalike = `${uniqueName('fpbad-plain')}#1`;
  const ids = await flows.add({ name: 'p', queue: plain, children: [{ name: 'c', queue: lookalike }] });
  assert.equal(ids.children[0]!.queue, lookalike);
  assert.equal(await fx.raw.hexists(`{hopper:${lookalike}}:jobs`, ids.children[0]!.id), 1);
});
