import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  type Job,
  JobFailedError,
  JobStateError,
  Queue,
  QueueEvents,
  type QueueEventsOptions,
  TimeoutError,
  Worker,
  type WorkerOptions,
} from '../../src/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { startRedis } from '../helpers/redis-server.js';

const fx = new RedisFixture();
let n = 0;

const queue = (url = fx.url) => fx.track(new Queue(`ev-${++n}`, { connection: url, metrics: false }));
const events = (q: Queue, opts: QueueEventsOptions = {}, url = fx.url) =>
  fx.track(new QueueEvents(q.name, { connection: url, blockMs: 200, ...opts }));
const worker = <D>(q: Queue, handler: (job: Job<D>) => unknown, opts: WorkerOptions = {}, url = fx.url) =>
  fx.track(new Worker<D>(q.name, handler, { connection: url, metrics: false, schedules: false, ...opts }));

async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Records every job event of a QueueEvents as `event:jobId`. */
function record(qe: QueueEvents): string[] {
  const seen: string[] = [];
  for (const e of ['added', 'active', 'completed', 'failed', 'retried', 'stalled', 'removed'] as const)
    qe.on(e, ({ jobId }) => seen.push(`${e}:${jobId}`));
  qe.on('progress', ({ jobId, data }) => seen.push(`progress:${jobId}:${JSON.stringify(data)}`));
  qe.on('drained', () => seen.push('drained'));
  return seen;
}

describe('QueueEvents', () => {
  test('a job life in order: added, active, progress, completed, drained; results never in the stream', async () => {
    const q = queue();
    const qe = events(q);
    const seen = record(qe);
    await qe.waitUntilReady();
    const id = await q.add('j', { a: 1 });
    worker(q, async (job) => {
      await job.updateProgress({ pct: 50 });
      return { secret: 'result-value' };
    });
    await until(() => seen.includes(`completed:${id}`));
    await until(() => seen.includes('drained'));
    assert.deepEqual(
      seen.filter((s) => s !== 'drained'),
      [`added:${id}`, `active:${id}`, `progress:${id}:{"pct":50}`, `completed:${id}`],
    );
    const entries = await fx.raw.xrange(q.keys.events, '-', '+');
    assert.ok(!JSON.stringify(entries).includes('result-value'), 'the result is not copied into events');
  });

  test('retried on each failed attempt that runs again, failed once for good; removed', async () => {
    const q = queue();
    const qe = events(q);
    const seen = record(qe);
    await qe.waitUntilReady();
    worker(q, () => {
      throw new Error('nope');
    });
    const id = await q.add('j', {}, { attempts: 3, backoff: 10 });
    await until(() => seen.includes(`failed:${id}`));
    assert.equal(seen.filter((s) => s === `retried:${id}`).length, 2);
    assert.equal(seen.filter((s) => s === `failed:${id}`).length, 1);
    await q.retry(id);
    await until(() => seen.filter((s) => s === `retried:${id}`).length === 3);
    const later = await q.add('later', {}, { delay: 60_000 });
    assert.equal(await q.remove(later), true);
    await until(() => seen.includes(`removed:${later}`));
  });

  test('stalled: a job whose worker died goes back and runs again', async () => {
    const q = queue();
    const qe = events(q);
    const seen = record(qe);
    await qe.waitUntilReady();
    const id = await q.add('j', {});
    // A worker that took the job and died: its lease is in the past.
    await fx.raw.rpop(q.keys.wait);
    await fx.raw.hset(q.keys.active, id, `1|dead-worker|${Date.now()}`);
    await fx.raw.zadd(q.keys.workers, 1, 'dead-worker');
    worker(q, () => 'ok', { leaseMs: 300 });
    await until(() => seen.includes(`completed:${id}`));
    assert.ok(seen.indexOf(`stalled:${id}`) < seen.indexOf(`completed:${id}`), seen.join(' '));
  });

  test('a batch of jobs is one entry per event, and the stream stays capped whatever the volume', async () => {
    const q = queue();
    await q.setEvents({ maxLen: 100 });
    assert.deepEqual(await q.getEvents(), { maxLen: 100 });
    const ids = await q.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: 'j', data: i })));
    assert.equal(await fx.raw.xlen(q.keys.events), 1, 'one added entry for the batch');
    const qe = events(q, { lastEventId: '0' });
    let added = 0;
    qe.on('added', () => added++);
    await until(() => added === ids.length);
    // 3,000 single adds, each its own call: the stream is trimmed near 100 entries.
    for (let i = 0; i < 3000; i += 100)
      await Promise.all(Array.from({ length: 100 }, () => q.add('k', {}).then(() => sleep(0))));
    for (let i = 0; i < 300; i++) await q.add('one', {});
    const len = await fx.raw.xlen(q.keys.events);
    assert.ok(len <= 300, `stream holds ${len} entries, capped near 100`);
    await q.setEvents({ maxLen: 0 });
    assert.equal(await fx.raw.exists(q.keys.events), 0);
    await q.add('quiet', {});
    assert.equal(await fx.raw.exists(q.keys.events), 0, 'events off: nothing written');
    await assert.rejects(q.setEvents({ maxLen: -1 }), /events\.maxLen/);
  });

  test('a subscriber that connects late reads the history it asks for, and resumes without a gap', async () => {
    const q = queue();
    worker(q, (job) => job.data);
    const first = await q.add('j', 1);
    const qe1 = events(q);
    await qe1.waitUntilFinished(first);
    await qe1.close();
    const late = events(q, { lastEventId: '0' });
    const seen = record(late);
    await until(() => seen.includes(`completed:${first}`));
    assert.deepEqual(
      seen.filter((s) => s !== 'drained'),
      [`added:${first}`, `active:${first}`, `completed:${first}`],
    );
    const resumeFrom = late.lastEventId;
    await late.close();
    const second = await q.add('j', 2); // while nobody listens
    const resumed = events(q, { lastEventId: resumeFrom });
    const seen2 = record(resumed);
    await until(() => seen2.includes(`completed:${second}`));
    assert.ok(!seen2.some((s) => s.endsWith(`:${first}`)), 'nothing before the resume point again');
    assert.equal(seen2[0], `added:${second}`);
    assert.throws(() => new QueueEvents(q.name, { lastEventId: 'x' }), /lastEventId/);
  });
});

describe('waitUntilFinished', () => {
  test('resolves to the result, rejects with the error, answers at once for a finished job', async () => {
    const q = queue();
    const qe = events(q);
    worker<{ x: number }>(q, (job) => {
      if (job.data.x < 0) throw new Error('negative');
      return job.data.x * 2;
    });
    const ok = await q.add('double', { x: 21 });
    assert.equal(await qe.waitUntilFinished<number>(ok, 5000), 42);
    assert.equal(await qe.waitUntilFinished<number>(ok, 5000), 42, 'already finished');
    const bad = await q.add('double', { x: -1 });
    const err = await qe.waitUntilFinished(bad, 5000).catch((e) => e);
    assert.ok(err instanceof JobFailedError);
    assert.equal(err.failedReason, 'negative');
    await assert.rejects(qe.waitUntilFinished('no-such-job', 5000), JobStateError);
    const slow = await q.add('double', { x: 1 }, { delay: 60_000 });
    await assert.rejects(qe.waitUntilFinished(slow, 100), TimeoutError);
    await assert.rejects(qe.waitUntilFinished('', 100), /jobId/);
  });

  test('request/response with jobs deleted as they complete: every caller gets its answer', async () => {
    const q = queue();
    const qe = events(q);
    worker<number>(q, (job) => job.data + 1, { concurrency: 20 });
    await qe.waitUntilReady();
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const id = await q.add('inc', i, { removeOnComplete: true });
        return qe.waitUntilFinished(id, 10_000);
      }),
    );
    // Deleted at once: the result is gone, the ending is known.
    assert.equal(answers.length, 200);
    assert.ok(answers.every((a) => a === undefined));
    const kept = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => qe.waitUntilFinished(await q.add('inc', i), 10_000)),
    );
    assert.deepEqual(
      kept,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  test('a Redis restart: the subscriber reconnects and a wait that spans it resolves', async () => {
    const redis = await startRedis({ aof: true, args: ['--appendfsync', 'always'] });
    fx.track({ close: () => redis.stop() });
    const q = queue(redis.url);
    const qe = events(q, {}, redis.url);
    const seen = record(qe);
    await qe.waitUntilReady();
    const before = await q.add('j', 'before', { delay: 1500 });
    const waiting = qe.waitUntilFinished(before, 20_000);
    await redis.restart();
    worker(q, (job) => `done ${job.data}`, {}, redis.url);
    assert.equal(await waiting, 'done before');
    const after = await q.add('j', 'after');
    assert.equal(await qe.waitUntilFinished(after, 10_000), 'done after');
    await until(() => seen.includes(`completed:${after}`));
    assert.ok(seen.includes(`completed:${before}`));
    const raw = new Redis(redis.url);
    assert.ok((await raw.xlen(q.keys.events)) > 0);
    raw.disconnect();
  });
});
