import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { PrometheusExporter } from '../../src/entry/prometheus.js';
import {
  Cache,
  Channel,
  Deduper,
  EventStream,
  LockManager,
  Queue,
  RateLimiter,
  StreamProcessor,
  Worker,
} from '../../src/index.js';
import { registryKey } from '../../src/queue/keys.js';
import { runCli } from '../cli/run.js';
import { type RedisClusterProcess, startCluster } from '../helpers/redis-cluster.js';
import { requireRedisServer } from '../helpers/redis-server.js';

/** Every part of Hopper on one real 3-master Cluster, shared by this file's tests. */
requireRedisServer();
const quiet = pino({ level: 'silent' });
let cluster: RedisClusterProcess;
let raw: Cluster;
const open: { close(): Promise<void> }[] = [];
function track<T extends { close(): Promise<void> }>(o: T): T {
  open.push(o);
  return o;
}

before(async () => {
  cluster = await startCluster();
  raw = new Cluster(cluster.seeds);
});
after(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
  raw?.disconnect();
  await cluster?.stop();
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Queue names whose hash tags land on every master, so no part can pass by luck of placement. */
async function namesOnEveryMaster(base: string): Promise<string[]> {
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < 3 && i < 200; i++) {
    const name = `${base}${i}`;
    const port = (await cluster.masterFor(`{hopper:${name}}`)).port;
    if (!byMaster.has(port)) byMaster.set(port, name);
  }
  assert.equal(byMaster.size, 3, 'names on three masters');
  return [...byMaster.values()];
}

test('queues on every master: add, work, counts, getJobs, retry, pause, drain, registry', async () => {
  const names = await namesOnEveryMaster('q');
  for (const name of names) {
    const q = track(new Queue(name, { connection: cluster.url, logger: quiet }));
    const seen: number[] = [];
    let failedOnce = false;
    const w = track(
      new Worker<{ i: number }>(
        name,
        async (job) => {
          if (job.data.i === 0 && !failedOnce) {
            failedOnce = true;
            throw new Error('first try fails');
          }
          seen.push(job.data.i);
        },
        { connection: cluster.url, concurrency: 4, logger: quiet },
      ),
    );
    await q.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'j', data: { i } })));
    await until(
      '29 done and one failed',
      async () => (await q.getCounts()).failed === 1 && seen.length === 29,
    );
    const [failed] = await q.getJobs('failed');
    await q.retry(failed!.id);
    await until('the retried job done', () => seen.length === 30);
    // The handler returned; its settle may still be on its way.
    await until('30 completed', async () => (await q.getCounts()).completed === 30);
    await q.pause();
    await q.add('held', { i: 99 });
    await sleep(100);
    assert.equal((await q.getCounts()).waiting, 1);
    assert.equal(await q.drain(), 1);
    await q.resume();
    await w.close();
  }
  // The registry (one key, outside every queue's tag) lists them all.
  const registered = await raw.smembers(registryKey('hopper'));
  for (const name of names) assert.ok(registered.includes(name), name);
});

test('schedules, groups and limits on a cluster', async () => {
  const [name] = await namesOnEveryMaster('sg');
  const q = track(new Queue(name!, { connection: cluster.url, logger: quiet }));
  await q.setLimits({ concurrency: 2, group: { concurrency: 1 } });
  let running = 0;
  let peak = 0;
  const done: string[] = [];
  track(
    new Worker(
      name!,
      async (job) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(5);
        running--;
        done.push(job.name);
      },
      { connection: cluster.url, concurrency: 8, logger: quiet },
    ),
  );
  for (let i = 0; i < 12; i++) await q.add(`g${i % 3}-${i}`, {}, { group: `g${i % 3}` });
  await q.schedule('tick', { every: 200 }, { name: 'tick', data: {} });
  await until(
    'grouped jobs and two ticks',
    () => done.length >= 14 && done.filter((n) => n === 'tick').length >= 2,
  );
  assert.ok(peak <= 2, `queue concurrency 2 held (peak ${peak})`);
  assert.equal((await q.schedules()).length, 1);
  assert.equal(await q.unschedule('tick'), true);
});

test('metrics and Prometheus read queues on every master (no pipeline spans slots)', async () => {
  const names = await namesOnEveryMaster('m');
  for (const name of names) {
    const q = track(new Queue(name, { connection: cluster.url, logger: quiet }));
    track(new Worker(name, async () => {}, { connection: cluster.url, logger: quiet }));
    await q.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {} },
    ]);
    await until(`${name} done`, async () => (await q.getCounts()).completed === 2);
  }
  const q0 = track(new Queue(names[0]!, { connection: cluster.url, logger: quiet }));
  await until(
    'metrics flushed',
    async () => (await q0.getMetrics({ minutes: 5 })).completedJobs >= 2,
    15_000,
  );
  const exporter = new PrometheusExporter(
    { client: raw as never, prefix: 'hopper', queues: async () => names, streams: [] },
    { processMetrics: false },
  );
  const text = await exporter.render();
  for (const name of names) assert.match(text, new RegExp(`queue="${name}"`));
});

test('EventStream and StreamProcessor', async () => {
  const stream = track(new EventStream('events', { connection: cluster.url, logger: quiet }));
  const got: unknown[] = [];
  track(
    new StreamProcessor(stream, 'g', {
      connection: cluster.url,
      sink: async (batch) => void got.push(...batch.map((e) => e.data)),
      logger: quiet,
    }),
  );
  await stream.appendMany(Array.from({ length: 50 }, (_, i) => ({ i })));
  await until('50 events processed', () => got.length === 50);
  assert.equal((await stream.info()).length, 50);
});

test('Cache: keys on every master, value and lock in one slot, clear scans every master', async () => {
  const cache = track(new Cache({ connection: cluster.url, namespace: 'c', logger: quiet }));
  await cache.ready();
  const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
  // Concurrent reads of many keys batch per slot (a batch across slots would be CROSSSLOT).
  const values = await Promise.all(keys.map((k) => cache.getOrSet(k, async () => `v-${k}`)));
  assert.deepEqual(
    values,
    keys.map((k) => `v-${k}`),
  );
  const other = track(new Cache({ connection: cluster.url, namespace: 'c', memory: false, logger: quiet }));
  assert.deepEqual(await other.getMany(keys), values);
  assert.equal(await cache.clear(), 30);
  assert.equal(await other.get('k1'), undefined);
});

test('RateLimiter: batched checks on keys of different slots', async () => {
  const limiter = track(
    new RateLimiter({ connection: cluster.url, algorithm: 'fixed-window', limit: 3, window: 10_000 }),
  );
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => limiter.limit(`user-${i % 10}`)));
  assert.equal(results.filter((r) => r.allowed).length, 30);
});

test('Channel, LockManager and Deduper', async () => {
  const channel = track(new Channel({ connection: cluster.url, logger: quiet }));
  const got: unknown[] = [];
  await channel.subscribe('news', (m) => void got.push(m));
  await channel.publish('news', { hello: 1 });
  await until('message', () => got.length === 1);

  const locks = track(new LockManager({ connection: cluster.url, ttl: 5000 }));
  const held = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((r) => locks.acquire(r)));
  await assert.rejects(locks.acquire('r1', { waitMs: 0 }));
  for (const h of held) assert.equal(await h.release(), true);

  const dedupe = track(new Deduper({ connection: cluster.url }));
  assert.equal(await dedupe.claim('x', 5000), true);
  assert.equal(await dedupe.claim('x', 5000), false);
});

test('an ioredis Cluster instance as connection is used, not 127.0.0.1:6379', async () => {
  const q = track(new Queue('inst', { connection: raw, logger: quiet }));
  const id = await q.add('x', {});
  assert.equal(await raw.hexists('{hopper:inst}:jobs', id), 1);
});

test('CLI: ping shows the masters and where each queue lives; stats and jobs see queues on every master', async () => {
  const names = await namesOnEveryMaster('cli');
  for (const name of names) {
    const q = track(new Queue(name, { connection: cluster.url, logger: quiet }));
    await q.add('waiting-job', { n: name });
  }
  const ping = await runCli(cluster.url, ['ping']);
  assert.equal(ping.code, 0, ping.stderr);
  assert.match(ping.stdout, /Redis Cluster, 3 masters, 3 replicas/);
  for (const name of names) {
    const port = (await cluster.masterFor(`{hopper:${name}}`)).port;
    assert.match(ping.stdout, new RegExp(`${name}  slot \\d+ on 127\\.0\\.0\\.1:${port}`));
  }
  const stats = await runCli(cluster.url, ['stats', '--json']);
  assert.equal(stats.code, 0, stats.stderr);
  for (const name of names) assert.match(stats.stdout, new RegExp(`"${name}"`));
  const jobs = await runCli(cluster.url, ['jobs', names[2]!, 'waiting']);
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.match(jobs.stdout, /waiting-job/);
});
