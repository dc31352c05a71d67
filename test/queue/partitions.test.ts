import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { OverviewReader } from '../../src/console/data/overview.js';
import { consoleScripts } from '../../src/console/scripts.js';
import {
  type Job,
  PartitionCountError,
  PartitionNameError,
  Queue,
  QueueEvents,
  ValidationError,
  Worker,
  type WorkerOptions,
} from '../../src/index.js';
import { partitionNames, partitionOfGroup, partitionOfId } from '../../src/queue/partitions/layout.js';
import type { PartitionedQueue } from '../../src/queue/partitions/queue.js';

import { defineScripts } from '../../src/redis/scripts.js';
import { runCli } from '../cli/run.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';

const fx = new RedisFixture({ closeAfterEach: true });
const N = 3;

function queue(label: string, partitions = N, extra = {}): Queue {
  return fx.track(new Queue(uniqueName(label), { connection: fx.connection, partitions, ...extra }));
}

function worker<D>(q: Queue, handler: (job: Job<D>) => unknown, opts: WorkerOptions = {}): Worker<D> {
  return fx.track(
    new Worker<D>(q.name, handler, { connection: fx.connection, logger: quiet, partitions: N, ...opts }),
  );
}

/** Waiting jobs in each partition, read from Redis directly (LLEN of each partition's list). */
async function perPartition(name: string): Promise<number[]> {
  return Promise.all(partitionNames('hopper', name, N).map((p) => fx.raw.llen(`{hopper:${p}}:wait`)));
}

test('bad partitions are refused with a ValidationError naming partitions, before anything connects', () => {
  for (const bad of [0, -1, 1.5, 1025, Number.NaN, '3', null]) {
    for (const open of [
      () => new Queue(uniqueName('bad'), { connection: fx.connection, partitions: bad as never }),
      () => new Worker(uniqueName('bad'), () => {}, { connection: fx.connection, partitions: bad as never }),
    ])
      assert.throws(open, (e) => e instanceof ValidationError && e.field === 'partitions', String(bad));
  }
});

test('a new Queue with partitions is a Queue; plain jobs spread evenly, ids name their partition', async () => {
  const q = queue('spread');
  assert.ok(q instanceof Queue);
  const ids = await q.addBulk(Array.from({ length: 300 }, (_, i) => ({ name: 'j', data: { i } })));
  ids.push(...(await Promise.all(Array.from({ length: 30 }, (_, i) => q.add('one', { i })))));
  assert.equal(new Set(ids).size, 330, 'ids are unique across partitions');
  assert.deepEqual(await perPartition(q.name), [110, 110, 110]);
  assert.equal((await q.getCounts()).waiting, 330);
  const job = await q.getJob(ids[7]!);
  assert.deepEqual(job?.data, { i: 7 });
  // The registry lists the queue once, with its count; the partitions are not listed.
  assert.deepEqual(await fx.raw.smembers('hopper:queues'), [q.name]);
  assert.equal(await fx.raw.hget('hopper:queues:partitions', q.name), String(N));
});

/** The partitions whose job hash holds `id`. */
async function holders(name: string, id: string): Promise<number[]> {
  const names = partitionNames('hopper', name, N);
  const has = await Promise.all(names.map((p) => fx.raw.hexists(`{hopper:${p}}:jobs`, id)));
  return has.flatMap((h, k) => (h ? [k] : []));
}

test('generated ids are as short as a plain queue`s and name their partition (id mod N)', async () => {
  const q = queue('short-ids');
  const ids = await q.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'j', data: { i } })));
  ids.push(await q.add('one', { i: 30 }, { priority: 2 })); // add.lua's other path
  for (const id of ids) {
    assert.ok(Number(id) <= 3 * 31, `id ${id} is short`);
    assert.deepEqual(await holders(q.name, id), [Number(id) % N], `id ${id}`);
    assert.equal(partitionOfId(id, N), Number(id) % N);
  }
});

test('a partition that ran long never generates another partition`s ids', async () => {
  const q = queue('long-run');
  await q.waitUntilReady();
  // Partition 0 has generated ~10^12 ids, as a busy partition does in time (it counts
  // fetches too). Ids used to start at k x 10^12 in partition k, so partition 0 then
  // made the same ids as partition 1 and a job's id named two jobs.
  const first = partitionNames('hopper', q.name, N)[0]!;
  await fx.raw.set(`{hopper:${first}}:seq`, 1e12 - 1);
  const ids = await q.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: 'j', data: { i } })));
  assert.equal(new Set(ids).size, 12);
  for (let i = 0; i < ids.length; i++) {
    assert.equal((await holders(q.name, ids[i]!)).length, 1, `id ${ids[i]} is in one partition`);
    assert.deepEqual((await q.getJob(ids[i]!))?.data, { i });
  }
  // Ids past 2^53 would not survive a double: refused, and nothing is written.
  const last = partitionNames('hopper', q.name, N)[N - 1]!;
  await fx.raw.set(`{hopper:${last}}:seq`, 3.1e15);
  const part = (q as unknown as PartitionedQueue).parts[N - 1]!;
  await assert.rejects(part.add('j', {}), /2\^53/);
  assert.equal(await fx.raw.get(`{hopper:${last}}:seq`), '3100000000000000');
  assert.equal(await fx.raw.llen(`{hopper:${last}}:wait`), 4);
});

test('a group stays in one partition, in order; jobIds and dedup keys go by their hash', async () => {
  const q = queue('groups');
  for (const g of ['a', 'b', 'c', 'd', 'e']) {
    for (let i = 0; i < 4; i++) await q.add('g', { g, i }, { group: g });
    assert.equal((await q.getGroup(g)).waiting, 4);
  }
  const custom = await q.add('c', { x: 1 }, { jobId: 'order-17' });
  assert.equal(custom, 'order-17');
  assert.equal(await q.add('c', { x: 2 }, { jobId: 'order-17' }), 'order-17', 'a duplicate jobId is found');
  // A grouped jobId lives in its group's partition, not the one its id hashes to: found there too.
  const other = ['g1', 'g2', 'g3', 'g4'].find(
    (g) => partitionOfGroup(g, N) !== partitionOfId('grouped-1', N),
  )!;
  const grouped = await q.add('c', { x: 3 }, { jobId: 'grouped-1', group: other });
  assert.deepEqual(
    (await q.getJob(grouped))?.data,
    { x: 3 },
    'a grouped jobId is found in its group partition',
  );
  const d1 = await q.add('d', {}, { dedup: { key: 'k', ttl: 60_000 } });
  const d2 = await q.add('d', {}, { dedup: { key: 'k', ttl: 60_000 } });
  assert.equal(d1, d2, 'a dedup key holds across the queue');
  const seen = new Map<string, number[]>();
  const w = worker<{ g?: string; i?: number }>(q, (job) => {
    if (job.data.g) seen.set(job.data.g, [...(seen.get(job.data.g) ?? []), job.data.i!]);
  });
  await waitFor('all jobs', async () => (await q.getCounts()).completed === 23);
  for (const [, order] of seen) assert.deepEqual(order, [0, 1, 2, 3]);
  await w.close();
  const groupsPerPartition = new Set(['a', 'b', 'c', 'd', 'e'].map((g) => partitionOfGroup(g, N)));
  assert.ok(groupsPerPartition.size > 1, 'the five groups use more than one partition');
});

/** `count` jobIds that place their jobs in partition `p`. */
function idsIn(p: number, count: number, label: string): string[] {
  const out: string[] = [];
  for (let k = 0; out.length < count; k++)
    if (partitionOfId(`${label}${k}`, N) === p) out.push(`${label}${k}`);
  return out;
}

test('one worker drains every partition under one concurrency budget; a backlog starves no partition', async () => {
  const q = queue('drain');
  // Partition 0 gets a long backlog first, partitions 1 and 2 five jobs each after it.
  const jobs = [
    ...idsIn(0, 150, 'a').map((id) => ({ id, p: 0 })),
    ...idsIn(1, 5, 'b').map((id) => ({ id, p: 1 })),
    ...idsIn(2, 5, 'c').map((id) => ({ id, p: 2 })),
  ];
  await q.addBulk(jobs.map(({ id, p }) => ({ name: 'j', data: { p }, opts: { jobId: id } })));
  assert.deepEqual(await perPartition(q.name), [150, 5, 5]);
  let running = 0;
  let most = 0;
  const starts: number[] = [];
  const w = worker<{ p: number }>(
    q,
    async (job) => {
      running++;
      most = Math.max(most, running);
      starts.push(job.data.p);
      await sleep(2);
      running--;
    },
    { concurrency: 4 },
  );
  assert.ok(w instanceof Worker);
  let drained = 0;
  w.on('drained', () => drained++);
  await waitFor('all 160 jobs', async () => (await q.getCounts()).completed === 160, 15_000);
  assert.ok(most <= 4, `at most the worker's concurrency ran at once across partitions (saw ${most})`);
  const lastSmall = Math.max(starts.lastIndexOf(1), starts.lastIndexOf(2));
  assert.ok(
    lastSmall < 40,
    `partitions 1 and 2 ran within the first 40 starts, not after the backlog (${lastSmall})`,
  );
  await waitFor('drained once every partition is empty', () => drained >= 1);
});

test('counts, getJobs, retry, promote, clean, pause, drain and metrics see one queue', async () => {
  const q = queue('admin');
  const ids = await q.addBulk(
    Array.from({ length: 12 }, (_, i) => ({ name: 'j', data: { i }, opts: { attempts: 1 } })),
  );
  const later = await q.add('later', { i: 98 }, { delay: 3600_000 });
  const page = await q.getJobs('waiting', 0, 4);
  assert.equal(page.length, 5);
  assert.deepEqual(
    (await q.getJobs('waiting', 0, -1)).map((j) => j.id).sort(),
    [...ids].sort(),
    'every waiting job of every partition, once',
  );
  assert.equal((await q.getJobs('waiting', 10, 20)).length, 2, 'a later page');
  assert.equal((await q.getJobs('delayed'))[0]?.id, later);
  await q.promote(later);
  assert.equal((await q.getJob(later))?.state, 'waiting');
  await q.pause();
  assert.equal(await q.isPaused(), true);
  const ran: number[] = [];
  const w = worker<{ i: number }>(q, (job) => {
    ran.push(job.data.i);
    if (job.data.i % 2 === 1) throw new Error('odd');
  });
  await sleep(300);
  assert.equal(ran.length, 0, 'paused: no partition runs a job');
  await q.resume();
  await waitFor('all 13 to finish', async () => {
    const c = await q.getCounts();
    return c.completed + c.failed === 13;
  });
  const counts = await q.getCounts();
  assert.equal(counts.failed, 6);
  assert.equal(counts.completed, 7);
  const failed = await q.getJobs('failed', 0, -1);
  assert.equal(failed.length, 6);
  await q.retry(failed[0]!.id);
  await waitFor(
    'the retried job to fail again',
    async () => (await q.getJob(failed[0]!.id))?.state === 'failed',
  );
  await w.close();
  // Adds are counted per partition and flushed every few seconds: flush them now.
  await Promise.all((q as unknown as PartitionedQueue).parts.map((p) => p.metrics?.flush()));
  const metrics = await q.getMetrics({ minutes: 5 });
  assert.equal(metrics.queue, q.name);
  assert.equal(metrics.totalJobs, 13);
  assert.equal(metrics.completedJobs, 7);
  assert.equal(metrics.failedJobs, 7);
  assert.equal(metrics.execution.count, 14);
  assert.equal(await q.retryAll(), 6);
  assert.equal((await q.getCounts()).waiting, 6);
  assert.equal(await q.drain(), 6);
  assert.equal((await q.getCounts()).waiting, 0);
  const cleaned = await q.clean('completed', 0, 5);
  assert.equal(cleaned.length, 5, 'clean stops at its limit across partitions');
  assert.equal((await q.getCounts()).completed, 2);
  assert.equal(await q.remove(ids[0]!), (await q.getJob(ids[0]!)) !== null);
});

test('limits are split across partitions and read back whole; a limit below the partition count is refused', async () => {
  const q = queue('limits');
  await q.setLimits({ concurrency: 5, rate: { max: 10, duration: 1000 } });
  assert.deepEqual(await q.getLimits(), { concurrency: 5, rate: { max: 10, duration: 1000 } });
  const shares = await Promise.all(
    partitionNames('hopper', q.name, N).map((p) => fx.raw.hmget(`{hopper:${p}}:meta`, 'conc', 'rmax')),
  );
  assert.deepEqual(shares, [
    ['2', '4'],
    ['2', '3'],
    ['1', '3'],
  ]);
  await assert.rejects(
    q.setLimits({ concurrency: 2 }),
    (e) => e instanceof ValidationError && e.field === 'concurrency',
  );
  let running = 0;
  let most = 0;
  await q.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'j', data: { i } })));
  worker(
    q,
    async () => {
      running++;
      most = Math.max(most, running);
      await sleep(20);
      running--;
    },
    { concurrency: 20 },
  );
  await waitFor('all 30', async () => (await q.getCounts()).completed === 30, 15_000);
  assert.ok(most <= 5, `the queue-wide concurrency of 5 held across partitions (saw ${most})`);
  // Skew: all load in partition 0, whose share is 2 of the 5.
  most = 0;
  await q.addBulk(idsIn(0, 12, 'skew').map((jobId) => ({ name: 'j', data: {}, opts: { jobId } })));
  await waitFor('all 42', async () => (await q.getCounts()).completed === 42, 15_000);
  assert.equal(most, 2, 'one partition runs at its share of the limit');
});

test('a schedule fires once per tick, into partition 0, however many partitions', async () => {
  const q = queue('schedule');
  await q.schedule('tick', { every: 200 }, { name: 'tick', data: {} });
  assert.equal((await q.schedules()).length, 1);
  const ticks: string[] = [];
  const w = worker(q, (job) => void ticks.push(job.id));
  await waitFor('three ticks', () => ticks.length >= 3, 5000);
  await q.unschedule('tick');
  await w.close();
  const names = partitionNames('hopper', q.name, N);
  const done = await Promise.all(names.map((p) => fx.raw.zcard(`{hopper:${p}}:completed`)));
  assert.equal(done[1]! + done[2]!, 0, 'no tick in other partitions');
  // One job per tick: ticks 200 ms apart over the run, never two for one tick.
  const times = (await Promise.all(ticks.map((id) => q.getJob(id)))).map((j) => j!.timestamp).sort();
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 100, `ticks ${times}`);
});

test('opening a queue with another partition count is refused with PartitionCountError naming partitions', async () => {
  const q = queue('mismatch');
  await q.add('j', {});
  const other = fx.track(new Queue(q.name, { connection: fx.connection, partitions: 4 }));
  await assert.rejects(
    other.add('j', {}),
    (e) =>
      e instanceof PartitionCountError && e.field === 'partitions' && e.stored === N && e.requested === 4,
  );
  assert.equal((await q.getCounts()).waiting, 1, 'nothing written by the refused queue');
  const w = new Worker(q.name, () => {}, { connection: fx.connection, partitions: 2, logger: quiet });
  const errors: Error[] = [];
  w.on('error', (e) => errors.push(e));
  await assert.rejects(w.waitUntilReady(), PartitionCountError);
  await sleep(100);
  assert.equal((await q.getCounts()).waiting, 1, 'the refused worker took nothing');
  await w.close();
  assert.ok(errors[0] instanceof PartitionCountError);
  // A plain queue already registered counts as one partition.
  const plain = fx.track(new Queue(uniqueName('plain'), { connection: fx.connection }));
  await plain.add('j', {});
  await assert.rejects(
    fx.track(new Queue(plain.name, { connection: fx.connection, partitions: 2 })).add('j', {}),
    PartitionCountError,
  );
  // Obliterated, the name may be opened with another count.
  await q.obliterate();
  const again = fx.track(new Queue(q.name, { connection: fx.connection, partitions: 4 }));
  await again.add('j', {});
  assert.equal((await again.getCounts()).waiting, 1);
});

test('the CLI sees one queue: stats, jobs and retry of a partitioned queue', async () => {
  const q = queue('cli');
  await q.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: 'j', data: { i } })));
  const w = worker<{ i: number }>(q, (job) => {
    if (job.data.i < 3) throw new Error('no');
  });
  await waitFor('9 finished', async () => {
    const c = await q.getCounts();
    return c.completed + c.failed === 9;
  });
  await w.close();
  const stats = await runCli(fx.url, ['stats', '--json']);
  assert.equal(stats.code, 0, stats.stderr);
  const rows = JSON.parse(stats.stdout) as Record<string, { completed: number; failed: number }>;
  assert.deepEqual(
    Object.keys(rows).filter((k) => k.startsWith(q.name)),
    [q.name],
    'one row, not one per partition',
  );
  assert.equal(rows[q.name]!.completed, 6);
  assert.equal(rows[q.name]!.failed, 3);
  const jobs = await runCli(fx.url, ['jobs', q.name, 'failed', '--json']);
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.equal((JSON.parse(jobs.stdout) as unknown[]).length, 3);
  const failed = (await q.getJobs('failed', 0, -1)).map((j) => j.id);
  const far = failed.find((id) => partitionOfId(id, N) === 2)!;
  const job = await runCli(fx.url, ['job', q.name, far, '--json']);
  assert.equal(job.code, 0, job.stderr);
  assert.equal((JSON.parse(job.stdout) as { id: string; state: string }).state, 'failed');
  // The monitor's rates and percentiles: every partition's metrics (flushed about once a second).
  await waitFor('metrics flushed', async () => (await q.getMetrics({ minutes: 2 })).completedJobs === 6);
  const mon = await runCli(fx.url, ['monitor', q.name, '--json', '--once']);
  assert.equal(mon.code, 0, mon.stderr);
  const row = (JSON.parse(mon.stdout) as { queues: { completedPerMin: number; failedPerMin: number }[] })
    .queues[0]!;
  assert.ok(row.completedPerMin > 0 && row.failedPerMin > 0, JSON.stringify(row));
  const retried = await runCli(fx.url, ['retry', q.name, failed[2]!]);
  assert.equal(retried.code, 0, retried.stderr);
  assert.equal((await q.getJob(failed[2]!))?.state, 'waiting');
});

test('a partitioned queue opened without partitions is refused: its adds and its worker would use keys no partition reads', async () => {
  const q = queue('plain-open');
  await q.add('j', {});
  const plain = fx.track(new Queue(q.name, { connection: fx.connection }));
  for (const add of [() => plain.add('j', {}), () => plain.addBulk([{ name: 'j', data: {} }])])
    await assert.rejects(
      add(),
      (e) =>
        e instanceof PartitionCountError && e.field === 'partitions' && e.stored === N && e.requested === 1,
    );
  assert.equal(
    await fx.raw.exists(`{hopper:${q.name}}:wait`, `{hopper:${q.name}}:jobs`),
    0,
    'nothing written',
  );
  const errors: Error[] = [];
  const w = fx.track(new Worker(q.name, () => {}, { connection: fx.connection, logger: quiet }));
  w.on('error', (e) => errors.push(e));
  await waitFor('the plain worker refused', () => errors.length > 0);
  assert.equal(errors[0]?.name, 'PartitionCountError'); // the worker's error events carry a redacted copy
  assert.match(errors[0]!.message, /has 3 partition\(s\), opened with 1/);
  assert.equal((await q.getCounts()).waiting, 1, 'the job is still waiting in its partition');
});

test("a partition's own name is not a plain queue, and a plain queue's name is not taken as a partition", async () => {
  const q = queue('own-name');
  await q.add('j', {});
  const part = partitionNames('hopper', q.name, N)[2]!;
  const plain = fx.track(new Queue(part, { connection: fx.connection }));
  await assert.rejects(
    plain.add('j', {}),
    (e) => e instanceof PartitionNameError && e.field === 'name' && e.partitionOf === q.name,
  );
  const errors: Error[] = [];
  const w = fx.track(new Worker(part, () => {}, { connection: fx.connection, logger: quiet }));
  w.on('error', (e) => errors.push(e));
  await waitFor('the worker refused', () => errors.length > 0);
  assert.equal(errors[0]?.name, 'PartitionNameError');
  assert.equal((await q.getCounts()).waiting, 1, 'the partition is untouched');
  assert.equal(await fx.raw.sismember('hopper:queues', part), 0, 'a refused name is not registered');
  // The reverse: a plain queue holds a would-be partition's name first.
  const name = uniqueName('taken');
  const first = fx.track(new Queue(partitionNames('hopper', name, N)[1]!, { connection: fx.connection }));
  await first.add('j', {});
  await waitFor('registered', async () => (await fx.raw.sismember('hopper:queues', first.name)) === 1);
  const parted = fx.track(new Queue(name, { connection: fx.connection, partitions: N }));
  await assert.rejects(
    parted.waitUntilReady(),
    (e) => e instanceof ValidationError && e.field === 'partitions' && e.message.includes(first.name),
  );
  assert.equal(await fx.raw.hget('hopper:queues:partitions', name), null, 'no count recorded');
});

test('a partitioned worker opens one command connection and one cancel subscriber for all partitions; cancel reaches a job in any partition', async () => {
  /** Ids of the connections open now: a new connection gets a higher id than any before it. */
  const ids = async () =>
    ((await fx.raw.client('LIST')) as string)
      .trim()
      .split('\n')
      .map((line) => Number(/\bid=(\d+)/.exec(line)![1]));
  const q = queue('conns');
  const jobIds = await Promise.all(Array.from({ length: 6 }, (_, i) => q.add('j', {}, { jobId: `c${i}` })));
  assert.equal(new Set(jobIds.map((id) => partitionOfId(id, N))).size, N, 'the jobs sit in every partition');
  const before = Math.max(...(await ids()));
  const opened = async () => (await ids()).filter((id) => id > before).length;
  const aborted = new Set<string>();
  worker(
    q,
    (job) => {
      job.signal.addEventListener('abort', () => aborted.add(job.id));
      return new Promise(() => {}); // ends only by cancel
    },
    { concurrency: 10 },
  );
  await waitFor('all running', async () => (await q.getCounts()).active === jobIds.length);
  // A blocking connection per partition, plus the shared command connection and cancel subscriber.
  await waitFor('the worker connected', async () => (await opened()) >= N + 2);
  await sleep(300);
  assert.equal(await opened(), N + 2);
  for (const id of jobIds) assert.equal(await q.cancel(id, 'stop'), true, `${id} heard`);
  await waitFor('every job cancelled', async () => aborted.size === jobIds.length);
  await waitFor('every job failed', async () => (await q.getCounts()).failed === jobIds.length);
});

// Flows through partitioned queues: test/flow/partitions.test.ts.

test('QueueEvents with partitions hears every partition; waitUntilFinished finds a job in any partition', async () => {
  const q = queue('events');
  const events = fx.track(new QueueEvents(q.name, { connection: fx.connection, partitions: N }));
  assert.ok(events instanceof QueueEvents);
  await events.waitUntilReady();
  const completed = new Set<string>();
  events.on('completed', ({ jobId }) => void completed.add(jobId));
  const ids = await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: { i } })));
  const other = ['g1', 'g2', 'g3', 'g4'].find((g) => partitionOfGroup(g, N) !== partitionOfId('ev-1', N))!;
  const grouped = await q.add('g', { i: 6 }, { jobId: 'ev-1', group: other });
  const results = [...ids, grouped].map((id) => events.waitUntilFinished(id, 10_000));
  worker<{ i: number }>(q, (job) => job.data.i * 10);
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40, 50, 60]);
  await waitFor('7 completed events', () => completed.size === 7);
  assert.equal(events.lastEventId.split(',').length, N);
});

test('QueueEvents without partitions on a partitioned name follows the recorded count: it hears every partition', async () => {
  const q = queue('events-follow');
  await q.waitUntilReady();
  const events = fx.track(new QueueEvents(q.name, { connection: fx.connection }));
  assert.ok(events instanceof QueueEvents);
  await events.waitUntilReady();
  const completed = new Set<string>();
  events.on('completed', ({ jobId }) => void completed.add(jobId));
  const ids = await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: { i } })));
  assert.equal(new Set(ids.map((id) => partitionOfId(id, N))).size, N, 'jobs in every partition');
  const results = ids.map((id) => events.waitUntilFinished(id, 10_000));
  worker<{ i: number }>(q, (job) => job.data.i * 10);
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40, 50]);
  await waitFor('6 completed events', () => completed.size === 6);
  const last = events.lastEventId;
  assert.equal(last.split(',').length, N, "a partitioned queue's lastEventId");

  // Resumed from that id, still without partitions: the events after it, from every partition.
  const resumed = fx.track(new QueueEvents(q.name, { connection: fx.connection, lastEventId: last }));
  const again = new Set<string>();
  resumed.on('completed', ({ jobId }) => void again.add(jobId));
  const more = await q.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: 'j', data: { i } })));
  await waitFor('the 3 new jobs heard', () => more.every((id) => again.has(id)));
  assert.equal(again.size, 3, 'nothing before lastEventId');

  // One stream id cannot say where each partition was: refused on error, and by waitUntilFinished.
  const errors: Error[] = [];
  const wrong = fx.track(new QueueEvents(q.name, { connection: fx.connection, lastEventId: '1-0' }));
  wrong.on('error', (e) => errors.push(e));
  await assert.rejects(
    wrong.waitUntilFinished(ids[0]!, 1000),
    (e) => e instanceof ValidationError && e.field === 'lastEventId',
  );
  assert.equal(errors[0]?.name, 'ValidationError'); // error events carry a redacted copy
  assert.match(errors[0]!.message, /lastEventId/);
});

test('QueueEvents without partitions, started before the queue existed, follows it once it is recorded as partitioned', async () => {
  const name = uniqueName('events-early');
  // A monitor started before any producer: the name is not recorded yet.
  const events = fx.track(new QueueEvents(name, { connection: fx.connection, blockMs: 200 }));
  await events.waitUntilReady();
  const completed = new Set<string>();
  events.on('completed', ({ jobId }) => void completed.add(jobId));
  const q = fx.track(new Queue(name, { connection: fx.connection, partitions: N }));
  const ids = await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: { i } })));
  // Asked at once, before the reader's next read has noticed the count: it checks again.
  const results = ids.map((id) => events.waitUntilFinished(id, 10_000));
  worker<{ i: number }>(q, (job) => job.data.i * 10);
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40, 50]);
  await waitFor('every completed event, from every partition', () => ids.every((id) => completed.has(id)));
  assert.equal(events.lastEventId.split(',').length, N);

  // A plain queue's reader keeps reading its own stream, whenever its queue is recorded.
  const plainName = uniqueName('events-early-plain');
  const plainEvents = fx.track(new QueueEvents(plainName, { connection: fx.connection, blockMs: 200 }));
  await plainEvents.waitUntilReady();
  const plain = fx.track(new Queue(plainName, { connection: fx.connection }));
  const id = await plain.add('j', { i: 7 });
  fx.track(
    new Worker(plainName, (job) => (job.data as { i: number }).i, {
      connection: fx.connection,
      logger: quiet,
    }),
  );
  assert.equal(await plainEvents.waitUntilFinished(id, 10_000), 7);
  assert.doesNotMatch(plainEvents.lastEventId, /,/);
});

test("the dashboard's overview shows a partitioned queue as one row, summed", async () => {
  const q = queue('console');
  await q.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: 'j', data: { i } })));
  await q.add('later', {}, { delay: 3600_000 });
  const client = new Redis(fx.url);
  try {
    defineScripts(client, consoleScripts);
    const overview = await new OverviewReader(client, 'hopper').read();
    const rows = overview.queues.filter((r) => r.name.startsWith(q.name));
    assert.deepEqual(
      rows.map((r) => r.name),
      [q.name],
    );
    assert.equal(rows[0]!.counts.waiting, 9);
    assert.equal(rows[0]!.counts.delayed, 1);
    assert.equal(rows[0]!.completed.length, 30);
  } finally {
    client.disconnect();
  }
});

test('a partition worker error with no error listener is logged, not thrown at the listener', async () => {
  const q = queue('errors');
  const lines: { msg: string; err?: string }[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const ran: string[] = [];
  worker(
    q,
    (job) => {
      ran.push(job.id);
      throw new Error('again');
    },
    { logger, backoffStrategy: () => -5 },
  );
  await q.add('j', {}, { attempts: 2 });
  await waitFor('the failed attempt to be reported', () =>
    lines.some((l) => /backoffStrategy/.test(l.err ?? '')),
  );
  assert.ok(!lines.some((l) => /listener threw/.test(l.msg)), JSON.stringify(lines));
});
