import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createRestGateway, type RestGateway } from '../../src/gateway/index.js';
import { Queue, Worker } from '../../src/index.js';
import { createClient } from '../../src/redis/connection.js';
import { POLL } from '../../src/transport/rest/client.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import {
  killWorkerProcesses,
  logLines,
  quiet,
  startWorkerProcess,
  uniqueName,
  waitFor,
} from '../helpers/worker-process.js';

/** Workers over REST: polling with seed 002's backoff, leases kept by heartbeat, a killed worker's job run again. */
requireRedisServer();
const TOKEN = 'rest-worker-token-0123456789';
let redis: RedisProcess;
let gateway: RestGateway;
let raw: Redis;
let rest: { url: string; token: string };
const dir = mkdtempSync(join(tmpdir(), 'hopper-rest-worker-'));

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
  gateway = createRestGateway(redis.url, { tokens: [TOKEN] });
  rest = { url: await gateway.listen(), token: TOKEN };
});
after(async () => {
  await killWorkerProcesses();
  raw.disconnect();
  await gateway.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('polling: waits 500 ms, then ×1.5 per empty poll, and an element is taken at the next poll', async () => {
  const c = createClient(rest, 'blocking');
  const monitor = await raw.monitor();
  const polls: number[] = [];
  const start = Date.now();
  monitor.on('monitor', (_t: string, args: string[]) => {
    if (args[0]?.toLowerCase() === 'rpop' && args[1] === 'poll:sig') polls.push(Date.now() - start);
  });
  try {
    assert.equal(await c.brpop('poll:sig', 1.6), null);
    // At once, then after steps of 500 and 750 ms (about 0.5 and 1.25 s); none at the 1.6 s deadline.
    assert.equal(polls.length, 3, `polls at ${polls.join(', ')} ms`);
    for (let i = 1; i < polls.length; i++) {
      const gap = polls[i]! - polls[i - 1]!;
      assert.ok(gap >= POLL.minMs * POLL.factor ** (i - 1) - 50, `gap ${i}: ${gap} ms`);
    }
    await raw.lpush('poll:sig', '1');
    const got = await c.brpop('poll:sig', 10);
    assert.deepEqual(got, ['poll:sig', '1']);
  } finally {
    monitor.disconnect();
    c.disconnect();
  }
});

test('a job longer than the lease completes once: the lease is kept by heartbeats over REST', async () => {
  const q = new Queue(uniqueName('rest-hb'), { connection: rest });
  let runs = 0;
  let lost = 0;
  const w = new Worker(
    q.name,
    async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 2500));
      return 'ok';
    },
    { connection: rest, leaseMs: 900, logger: quiet },
  );
  w.on('lost', () => lost++);
  try {
    const id = await q.add('long', {});
    await waitFor('completion', async () => (await q.getJob(id))?.state === 'completed', 10_000);
    assert.equal(runs, 1);
    assert.equal(lost, 0);
  } finally {
    await w.close();
    await q.close();
  }
});

test('a REST worker killed mid-job: the job runs again after its lease, on another REST worker', async () => {
  const name = uniqueName('rest-kill');
  const log = join(dir, 'kill.log');
  const child = await startWorkerProcess({
    REDIS_URL: '',
    UPSTASH_REDIS_REST_URL: rest.url,
    UPSTASH_REDIS_REST_TOKEN: TOKEN,
    QUEUE: name,
    LOG: log,
    MODE: 'hang',
    LEASE_MS: '1500',
  });
  const q = new Queue(name, { connection: rest });
  const id = await q.add('victim', {});
  await waitFor('the child to start the job', () => logLines(log).includes(id), 10_000);
  await child.kill9();
  const killedAt = Date.now();
  const ran: number[] = [];
  const w = new Worker(name, async () => void ran.push(Date.now() - killedAt), {
    connection: rest,
    leaseMs: 1500,
    logger: quiet,
  });
  try {
    await waitFor(
      'the job to complete on the second worker',
      async () => (await q.getJob(id))?.state === 'completed',
      15_000,
    );
    assert.equal(ran.length, 1);
    // Not before the killed worker's lease could lapse.
    assert.ok(ran[0]! >= 1000, `ran again ${ran[0]} ms after the kill`);
    const job = await q.getJob(id);
    assert.equal(job?.stalls, 1);
  } finally {
    await w.close();
    await q.close();
  }
});
