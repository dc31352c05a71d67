import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type FailurePolicy,
  type FlowChild,
  FlowProducer,
  type Job,
  Queue,
  Worker,
} from '../../src/index.js';
import { partitionNames, partitionOfId } from '../../src/queue/partitions/layout.js';
import {
  namesOnMasters,
  type RedisClusterProcess,
  startCluster,
  untilReplicated,
} from '../helpers/redis-cluster.js';
import { requireRedisServer } from '../helpers/redis-server.js';
import { quiet } from './load.js';

/**
 * Flows on a real 3+3 Cluster (docs/flows.md, "Redis Cluster design"): a parent and its
 * children in queues on three different masters, so every child's outcome crosses
 * slots (and nodes) to reach its parent; each failure policy; and a kill -9 of the
 * master holding a child queue while flows run.
 */
requireRedisServer();
let cluster: RedisClusterProcess;
const open: { close(): Promise<void> }[] = [];
function track<T extends { close(): Promise<void> }>(o: T): T {
  open.push(o);
  return o;
}

before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
  await cluster?.stop();
});

type Data = { v?: number; fail?: boolean };

/** Workers on the three queues; each run is recorded, parents record what they saw. */
function workers(queues: string[], opts: { leaseMs?: number; delayMs?: number } = {}) {
  const runs: string[] = [];
  const seen = new Map<string, FlowChild[]>();
  for (const q of queues) {
    const w = track(
      new Worker<Data>(
        q,
        async (job: Job<Data>) => {
          runs.push(`${q}/${job.id}`);
          const children = await job.children();
          if (children.length > 0) seen.set(`${q}/${job.id}`, children);
          if (opts.delayMs) await sleep(opts.delayMs);
          if (job.data?.fail) throw new Error(`boom ${job.id}`);
          return { v: (job.data?.v ?? 0) + children.reduce((s, c) => s + ((c.result as Data)?.v ?? 0), 0) };
        },
        {
          connection: cluster.url,
          logger: quiet,
          metrics: false,
          concurrency: 5,
          leaseMs: opts.leaseMs ?? 5000,
        },
      ),
    );
    w.on('error', () => {});
  }
  return { runs, seen };
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('a parent on one master runs once, after its children on two other masters, with their results', async () => {
  const [a, b, c] = (await namesOnMasters(cluster, 'flow-ok-')).map((n) => n.name);
  const flows = track(new FlowProducer({ connection: cluster.url }));
  const parents = track(new Queue(a!, { connection: cluster.url, logger: quiet, metrics: false }));
  await flows.add({
    name: 'parent',
    queue: a!,
    opts: { jobId: 'p' },
    data: { v: 1000 },
    children: [
      { name: 'k', queue: b!, data: { v: 1 } },
      { name: 'k', queue: c!, data: { v: 2 } },
      // A nested child: its own children live on the parent's master and another.
      {
        name: 'mid',
        queue: c!,
        data: { v: 10 },
        children: [
          { name: 'k', queue: a!, data: { v: 100 } },
          { name: 'k', queue: b!, data: { v: 200 } },
        ],
      },
    ],
  });
  assert.equal((await parents.getJob('p'))?.state, 'waiting-children');
  const { runs, seen } = workers([a!, b!, c!]);
  await until('the parent completed', async () => (await parents.getJob('p'))?.state === 'completed');
  assert.equal(runs.filter((r) => r === `${a}/p`).length, 1, 'the parent ran once');
  assert.equal(runs.at(-1), `${a}/p`, 'the parent ran last');
  assert.deepEqual(
    seen
      .get(`${a}/p`)!
      .map((ch) => [ch.queue, ch.id, ch.state, ch.result])
      .sort(),
    [
      [b, 'p/0', 'completed', { v: 1 }],
      [c, 'p/1', 'completed', { v: 2 }],
      [c, 'p/2', 'completed', { v: 310 }],
    ].sort(),
  );
  assert.deepEqual((await parents.getJob('p'))?.returnValue, { v: 1313 });
});

test('each failure policy across masters: fail fails the parent, continue lists the failure, ignore leaves it out', async () => {
  const [a, b] = (await namesOnMasters(cluster, 'flow-policy-')).map((n) => n.name);
  const flows = track(new FlowProducer({ connection: cluster.url }));
  const parents = track(new Queue(a!, { connection: cluster.url, logger: quiet, metrics: false }));
  const policies: FailurePolicy[] = ['fail', 'continue', 'ignore'];
  for (const policy of policies)
    await flows.add({
      name: 'parent',
      queue: a!,
      opts: { jobId: policy },
      children: [
        { name: 'ok', queue: b!, data: { v: 1 } },
        { name: 'bad', queue: b!, data: { fail: true }, onFailure: policy },
      ],
    });
  const { runs, seen } = workers([a!, b!]);
  await until('every parent settled', async () => {
    const states = await Promise.all(policies.map(async (p) => (await parents.getJob(p))?.state));
    return states[0] === 'failed' && states[1] === 'completed' && states[2] === 'completed';
  });
  const failed = await parents.getJob('fail');
  assert.equal(failed?.error?.name, 'ChildFailedError');
  assert.match(failed!.error!.message, new RegExp(`child ${b}/fail/1 failed: boom fail/1`));
  assert.ok(!runs.includes(`${a}/fail`), "policy 'fail': the parent never ran");
  const states = (p: string) =>
    seen
      .get(`${a}/${p}`)!
      .map((ch) => [ch.id, ch.state, ch.onFailure])
      .sort();
  assert.deepEqual(states('continue'), [
    ['continue/0', 'completed', undefined],
    ['continue/1', 'failed', 'continue'],
  ]);
  assert.deepEqual(states('ignore'), [['ignore/0', 'completed', undefined]]);
});

test('flows through partitioned queues whose partitions sit on three masters: the parent runs once, last, with every result; removal reaches every partition', async () => {
  const open = (name: string, partitions?: number) =>
    track(new Queue(name, { connection: cluster.url, logger: quiet, metrics: false, partitions }));
  const suffix = Date.now().toString(36);
  const [p, c] = [open(`flow-part-p-${suffix}`, 3), open(`flow-part-c-${suffix}`, 3)];
  const l = open((await namesOnMasters(cluster, `flow-part-l-${suffix}-`))[0]!.name);
  for (const q of [p, c]) await (q as unknown as { waitUntilReady(): Promise<void> }).waitUntilReady();
  // Each partitioned queue's partitions are on the three masters (layout.ts picks their names so).
  for (const q of [p, c]) {
    const masters = await Promise.all(
      partitionNames('hopper', q.name, 3).map(async (n) => (await cluster.masterFor(`{hopper:${n}}`)).port),
    );
    assert.equal(new Set(masters).size, 3, `${q.name}: partitions on ${masters}`);
  }
  const flows = track(new FlowProducer({ connection: cluster.url }));
  const tree = await flows.add({
    name: 'parent',
    queue: p.name,
    opts: { jobId: 'root' },
    data: { v: 1000 },
    children: [
      ...Array.from({ length: 9 }, () => ({ name: 'k', queue: c.name, data: { v: 1 } })),
      { name: 'k', queue: l.name, data: { v: 10 } },
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
  });
  assert.deepEqual(
    tree.children.map((n) => n.queue),
    [...new Array(9).fill(c.name), l.name, p.name],
  );
  // The children are spread over the partitions, so over the masters.
  const holders = new Set(tree.children.slice(0, 9).map((n) => partitionOfId(n.id, 3)));
  assert.ok(holders.size >= 2, `children in ${holders.size} partitions`);
  assert.equal((await p.getJob('root'))?.state, 'waiting-children');
  const runs: string[] = [];
  const seen = new Map<string, FlowChild[]>();
  for (const q of [p, c, l]) {
    const w = track(
      new Worker<Data>(
        q.name,
        async (job: Job<Data>) => {
          runs.push(`${q.name}/${job.id}`);
          const children = await job.children();
          if (children.length > 0) seen.set(`${q.name}/${job.id}`, children);
          return { v: (job.data?.v ?? 0) + children.reduce((s, ch) => s + ((ch.result as Data)?.v ?? 0), 0) };
        },
        {
          connection: cluster.url,
          logger: quiet,
          metrics: false,
          concurrency: 5,
          partitions: q === l ? undefined : 3,
        },
      ),
    );
    w.on('error', () => {});
  }
  await until('the parent completed', async () => (await p.getJob('root'))?.state === 'completed');
  const ref = `${p.name}/root`;
  assert.equal(runs.filter((r) => r === ref).length, 1, 'the parent ran once');
  assert.equal(runs.at(-1), ref, 'the parent ran last');
  assert.deepEqual(
    seen
      .get(ref)!
      .map((ch) => [ch.queue, ch.id, ch.state])
      .sort(),
    [
      ...Array.from({ length: 9 }, (_, i) => [c.name, `root/${i}`, 'completed']),
      [l.name, 'root/9', 'completed'],
      [p.name, 'root/10', 'completed'],
    ].sort(),
  );
  assert.deepEqual((await p.getJob('root'))?.returnValue, { v: 1121 });

  // Removal through the partitioned Queue reaches the children in every partition.
  await flows.add({
    name: 'parent',
    queue: p.name,
    opts: { jobId: 'gone' },
    children: Array.from({ length: 9 }, () => ({ name: 'k', queue: c.name, opts: { delay: 3_600_000 } })),
  });
  assert.equal(await p.remove('gone'), true);
  for (let i = 0; i < 9; i++) assert.equal(await c.getJob(`gone/${i}`), null, `gone/${i} removed`);
});

test('kill -9 of the master holding a child queue mid-run: every parent runs once, after all its children, with all their results', async () => {
  const names = await namesOnMasters(cluster, 'flow-kill-');
  const [a, b, c] = names.map((n) => n.name);
  const killed = names[1]!.master; // b's master
  const flows = track(new FlowProducer({ connection: cluster.url }));
  const parents = track(new Queue(a!, { connection: cluster.url, logger: quiet, metrics: false }));
  const children = track(new Queue(b!, { connection: cluster.url, logger: quiet, metrics: false }));
  const FLOWS = 60;
  for (let f = 0; f < FLOWS; f++)
    await flows.add({
      name: 'parent',
      queue: a!,
      opts: { jobId: `f${f}` },
      children: Array.from({ length: 6 }, (_, i) => ({
        name: 'k',
        queue: i % 2 ? b! : c!,
        data: { v: 1 + i },
      })),
    });
  // The flows were acknowledged before the kill: have the replicas take them, so what the
  // test measures is the run (an add the replica never had is lost without durability).
  for (const n of names) await untilReplicated(n.master.port);
  const { runs, seen } = workers([a!, b!, c!], { leaseMs: 3000, delayMs: 15 });
  await until('a third of the children ran', async () => runs.length >= (FLOWS * 6) / 3);
  await killed.kill9();
  const atKill = runs.length;
  await until('every parent completed', async () => (await parents.getCounts()).completed === FLOWS, 60_000);
  for (let f = 0; f < FLOWS; f++) {
    const ref = `${a}/f${f}`;
    assert.equal(runs.filter((r) => r === ref).length, 1, `${ref} ran once`);
    const kids = seen.get(ref)!;
    assert.equal(kids.length, 6, `${ref} saw its six children`);
    assert.ok(
      kids.every((k) => k.state === 'completed'),
      `${ref} saw them completed`,
    );
    assert.deepEqual((await parents.getJob(`f${f}`))?.returnValue, { v: 21 }, `${ref} summed its children`);
  }
  const rerun = runs.length - FLOWS * 7;
  assert.ok(
    runs.slice(atKill).some((r) => r.startsWith(`${b}/`)),
    "children of the killed master's queue ran after the kill",
  );
  const counts = await children.getCounts();
  assert.equal(counts.active + counts.waiting + counts.failed, 0, 'nothing left in the killed queue');
  console.log(`flows, kill -9 of a child queue's master: ${FLOWS} parents once each, ${rerun} child re-runs`);
  await killed.restart();
});
