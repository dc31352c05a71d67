import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Queue, ValidationError, Worker } from '../../src/index.js';
import { bucketOf } from '../../src/metrics/buckets.js';
import { lowerMs, MetricsRecorder, metricKeys, readMetrics, upperMs } from '../../src/metrics/index.js';
import { metricsConfig } from '../../src/metrics/options.js';
import { queueKeys } from '../../src/queue/keys.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture();
let n = 0;

/** Deterministic pseudo-random numbers (mulberry32), so the timings are known. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-uniform timings from 0.1 ms to 10 s: every bucket in that range gets used early. */
const timing = (r: () => number) => 0.1 * 10 ** (5 * r());

function recorder(options = {}): { rec: MetricsRecorder; tag: string } {
  const tag = queueKeys('hopper', `m-${++n}`).tag;
  const rec = new MetricsRecorder(fx.raw, tag, metricsConfig({ flushMs: 60_000, ...options }));
  fx.track(rec);
  return { rec, tag };
}

test('buckets: four per doubling, a timing lies inside its bucket', () => {
  for (const ms of [0.0005, 0.001, 0.0011, 0.5, 1, 1.2, 37, 999.9, 60_000, 3_600_000]) {
    const k = bucketOf(ms);
    assert.ok(lowerMs(k) < ms || k === 0, `${ms} above lower bound of ${k}`);
    assert.ok(ms <= upperMs(k) * (1 + 1e-12), `${ms} within upper bound of ${k}`);
  }
  assert.ok(Math.abs(upperMs(41) / upperMs(40) - 2 ** 0.25) < 1e-12);
  assert.equal(bucketOf(-5), 0);
  assert.equal(bucketOf(Number.NaN), 0);
});

test('p95 from the histograms is within one bucket width of the exact p95 over 10,000 known timings', async () => {
  const { rec, tag } = recorder();
  const r = random(42);
  const exec: number[] = [];
  const wait: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const e = timing(r);
    const w = timing(r) / 10;
    exec.push(e);
    wait.push(w);
    rec.attempt(e, w);
    rec.count('completed');
  }
  await rec.flush();
  const m = await readMetrics(fx.raw, tag, 'q', { days: 1 });
  for (const [name, values, summary] of [
    ['exec', exec, m.execution],
    ['wait', wait, m.wait],
  ] as const) {
    const sorted = [...values].sort((a, b) => a - b);
    for (const [q, got] of [
      [0.5, summary.p50],
      [0.95, summary.p95],
      [0.99, summary.p99],
    ] as const) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      const k = bucketOf(exact);
      const width = upperMs(k) - lowerMs(k);
      assert.ok(
        Math.abs(got - exact) <= width + 0.001,
        `${name} p${q * 100}: ${got} vs exact ${exact} (bucket width ${width})`,
      );
    }
    const avg = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(Math.abs(summary.avg - avg) < 0.01, `${name} avg ${summary.avg} vs ${avg}`);
    assert.equal(summary.count, 10_000);
  }
  assert.equal(m.completedJobs, 10_000);
  assert.equal(m.p95ExecutionTime, m.execution.p95);
});

test('memory of the metric keys is flat between 10,000 and 1,000,000 recorded jobs', async () => {
  const { rec, tag } = recorder({ failedJobsKept: 100 });
  const r = random(7);
  const keys = metricKeys(tag, Date.now());
  const usage = async () => {
    let total = 0;
    for (const k of Object.values(keys))
      total += Number((await fx.raw.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')) ?? 0);
    return total;
  };
  const record = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      rec.count('added');
      rec.attempt(timing(r), timing(r));
      if (i % 100 === 0) {
        rec.count('failed');
        rec.failure({
          id: String(i),
          name: 'job',
          attempt: 1,
          failedAt: 1_700_000_000_000 + i,
          error: { name: 'Error', message: `failure ${i % 1000}`.padEnd(40, '.') },
          data: '{"wallet":"w"}',
        });
      } else rec.count('completed');
      if (i % 20_000 === 19_999) await rec.flush();
    }
    await rec.flush();
  };
  await record(0, 10_000);
  const small = await usage();
  await record(10_000, 1_000_000);
  const large = await usage();
  const m = await readMetrics(fx.raw, tag, 'q', { days: 1 });
  assert.equal(m.totalJobs, 1_000_000, 'every job was counted');
  assert.equal(m.failedJobs, 10_000);
  assert.equal(await fx.raw.llen(keys.failed), 100, 'failed list capped');
  console.log(`# metric keys: ${small} bytes after 10,000 jobs, ${large} bytes after 1,000,000`);
  // Counters grow by a few digits (listpack integers widen); nothing grows per job.
  assert.ok(large <= small * 1.1 + 512, `metric keys: ${small} bytes at 10k jobs, ${large} at 1M`);
  assert.ok(large < 100_000, `metric keys use ${large} bytes for 1M jobs`);
});

test('keys share the queue hash tag; minute, day and failed keys expire, the total does not', async () => {
  const { rec, tag } = recorder({ retentionDays: 3, minuteRetentionHours: 2 });
  rec.count('added', 3);
  rec.failure({ id: '1', name: 'x', attempt: 1, failedAt: 1, error: { name: 'Error', message: 'm' } });
  await rec.flush();
  const keys = metricKeys(tag, Date.now());
  for (const k of Object.values(keys)) assert.ok(k.startsWith(`${tag}:metrics:`), k);
  const minuteTtl = await fx.raw.pttl(keys.minute);
  const dayTtl = await fx.raw.pttl(keys.day);
  const failedTtl = await fx.raw.pttl(keys.failed);
  assert.ok(minuteTtl > 2 * 3600_000 - 60_000 && minuteTtl <= 2 * 3600_000, `minute ttl ${minuteTtl}`);
  assert.ok(dayTtl > 4 * 86_400_000 - 60_000 && dayTtl <= 4 * 86_400_000, `day ttl ${dayTtl}`);
  assert.ok(failedTtl > 3 * 86_400_000 - 60_000 && failedTtl <= 3 * 86_400_000, `failed ttl ${failedTtl}`);
  assert.equal(await fx.raw.pttl(keys.total), -1);
  assert.equal(await fx.raw.hget(keys.total, 'added'), '3');
});

test('a flush that fails is merged into the next one', async () => {
  const client = new Redis(fx.url);
  client.on('error', () => {});
  client.disconnect(); // closed on purpose: commands reject until connect()
  const tag = queueKeys('hopper', `m-${++n}`).tag;
  const rec = new MetricsRecorder(client, tag, metricsConfig({ flushMs: 60_000 }));
  rec.count('completed', 5);
  await assert.rejects(rec.flush());
  await client.connect();
  rec.count('completed', 2);
  await rec.close();
  assert.equal(await fx.raw.hget(metricKeys(tag, Date.now()).total, 'completed'), '7');
  client.disconnect();
});

test('a worker records added, completed, retried, failed, timings and the failed job with its context', async () => {
  const q = new Queue(`mw-${++n}`, { connection: fx.url, metrics: { flushMs: 50 } });
  fx.track(q);
  const w = new Worker<{ n: number }>(
    q.name,
    async (job) => {
      await sleep(2);
      if (job.data.n % 5 === 0) throw new Error(`bad job ${job.data.n}`);
      return job.data.n;
    },
    { connection: fx.url, concurrency: 4, metrics: { flushMs: 50 } },
  );
  fx.track(w);
  await q.addBulk(
    Array.from({ length: 20 }, (_, i) => ({ name: 'j', data: { n: i }, opts: { attempts: 2 } })),
  );
  const deadline = Date.now() + 15_000;
  let m = await q.getMetrics({ days: 1 });
  while (m.completedJobs + m.failedJobs < 20 && Date.now() < deadline) {
    await sleep(50);
    m = await q.getMetrics({ days: 1 });
  }
  assert.equal(m.totalJobs, 20);
  assert.equal(m.completedJobs, 16);
  assert.equal(m.failedJobs, 4);
  assert.equal(m.retriedJobs, 4);
  assert.equal(m.execution.count, 24, 'one timing per attempt');
  assert.ok(m.avgExecutionTime >= 1.5, `avg ${m.avgExecutionTime}`);
  assert.ok(m.wait.count === 24 && m.wait.p99 >= m.wait.p50);
  assert.equal(m.recentFailures.length, 4);
  const f = m.recentFailures[0]!;
  assert.match(f.error.message, /^bad job \d+$/);
  assert.equal(f.attempt, 2);
  assert.match(f.data ?? '', /^\{"n":\d+\}$/);
  assert.ok(f.error.stack?.includes('bad job'));
  const perMinute = await q.getMetrics({ minutes: 5 });
  assert.equal(perMinute.totalJobs, 20);
});

test('metrics: false writes no metric keys', async () => {
  const q = new Queue(`off-${++n}`, { connection: fx.url, metrics: false });
  const w = new Worker(q.name, () => 1, { connection: fx.url, metrics: false });
  await q.add('j', {});
  const deadline = Date.now() + 5000;
  while ((await q.getCounts()).completed < 1 && Date.now() < deadline) await sleep(20);
  await w.close();
  await q.close();
  assert.deepEqual(await fx.raw.keys(`${q.keys.tag}:metrics:*`), []);
  assert.equal(q.metrics, undefined);
});

test('bad metrics options and windows are rejected naming the field', async () => {
  assert.throws(
    () => new Queue('x', { connection: fx.url, metrics: { retentionDays: 0 } }),
    (e: unknown) => e instanceof ValidationError && e.field === 'metrics.retentionDays',
  );
  assert.throws(
    () => new Worker('x', () => 1, { connection: fx.url, metrics: { flushMs: 1 } }),
    (e: unknown) => e instanceof ValidationError && e.field === 'metrics.flushMs',
  );
  const q = new Queue(`w-${++n}`, { connection: fx.url });
  fx.track(q);
  for (const [opts, field] of [
    [{ days: 0 }, 'days'],
    [{ days: 1.5 }, 'days'],
    [{ minutes: 5000 }, 'minutes'],
  ] as const)
    await assert.rejects(
      q.getMetrics(opts),
      (e: unknown) => e instanceof ValidationError && e.field === field,
    );
});
