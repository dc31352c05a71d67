import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Queue, Worker } from '../../src/index.js';
import { metricKeys } from '../../src/metrics/keys.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture();
let n = 0;

function queue(): Queue {
  return fx.track(new Queue(`wm-${++n}`, { connection: fx.url }));
}

test('a timed-out attempt is recorded with the time it ran, not 0', async () => {
  const q = queue();
  await q.add('slow', {}, { timeout: 300 });
  const worker = new Worker(q.name, () => new Promise((r) => setTimeout(r, 2000)), { connection: fx.url });
  await new Promise((resolve) => worker.on('failed', resolve));
  await worker.close({ timeout: 0 }); // flushes the worker's metrics
  const m = await q.getMetrics({ minutes: 5 });
  assert.equal(m.failedJobs, 1);
  assert.equal(m.execution.count, 1);
  // The timeout fired at 300 ms; the bucket holding it is about 19% wide, and timers run late on a busy machine.
  assert.ok(m.execution.avg >= 290 && m.execution.avg < 1900, `execution ${m.execution.avg} ms`);
});

test("jobs made by a worker's scheduler are counted as added", async () => {
  const q = queue();
  await q.schedule('tick', { every: 200 }, { name: 'tick', data: {} });
  await q.metrics!.flush();
  const worker = new Worker(q.name, () => null, { connection: fx.url });
  let completed = 0;
  await new Promise<void>((resolve) =>
    worker.on('completed', () => {
      if (++completed === 3) resolve();
    }),
  );
  await q.unschedule('tick');
  await worker.close();
  const made = (await fx.raw.hkeys(q.keys.jobs)).filter((id) => id.startsWith('sched:tick:')).length;
  const m = await q.getMetrics({ minutes: 5 });
  assert.ok(made >= 3, `the schedule made ${made} jobs`);
  assert.equal(m.totalJobs, made, 'every job the scheduler made is counted once');
  assert.ok(m.completedJobs >= 3);
});

test('obliterate deletes the metric keys too, and no flush brings them back', async () => {
  const q = queue();
  for (let i = 0; i < 5; i++) await q.add('j', { i });
  const worker = new Worker(q.name, () => null, { connection: fx.url });
  let completed = 0;
  await new Promise<void>((resolve) =>
    worker.on('completed', () => {
      if (++completed === 5) resolve();
    }),
  );
  await worker.close();
  await q.add('pending', {}); // counted in the queue's recorder, not flushed yet
  const keys = metricKeys(q.keys.tag, Date.now());
  assert.equal(await fx.raw.exists(keys.total, keys.minute, keys.day), 3, 'metric keys exist before');
  // A neighbour's metrics must survive.
  const other = queue();
  await other.add('j', {});
  await other.metrics!.flush();
  await q.obliterate({ force: true });
  await q.close();
  const left = await fx.raw.keys(`${q.keys.tag}*`); // KEYS is fine in a test's own server
  assert.deepEqual(left, [], 'nothing of the queue is left');
  assert.equal((await other.getMetrics({ minutes: 5 })).totalJobs, 1);
});
