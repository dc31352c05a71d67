import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MISFIRE_MS, Queue } from '../../src/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import {
  killWorkerProcesses,
  logLines,
  quiet,
  startWorkerProcess,
  uniqueName,
  type WorkerProcess,
  waitFor,
} from '../helpers/worker-process.js';
import { assertConsecutive, redisNow, ticksMade } from './schedule-helpers.js';

requireRedisServer();
let redis: RedisProcess;
let raw: Redis;
let tmp: string;

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
  tmp = mkdtempSync(join(tmpdir(), 'hopper-schedule-'));
});
after(async () => {
  await killWorkerProcesses();
  raw.disconnect();
  await redis.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function startWorkers(n: number, name: string, log: string): Promise<WorkerProcess[]> {
  const env = { REDIS_URL: redis.url, QUEUE: name, LOG: log, LEASE_MS: '1500' };
  return Promise.all(Array.from({ length: n }, () => startWorkerProcess(env)));
}

describe('schedules across worker processes', () => {
  test('four processes, one schedule every second for 30 s: exactly 30 jobs, one per tick, each run once', async () => {
    const name = uniqueName('sched-4p');
    const log = join(tmp, `${name}.log`);
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    try {
      const workers = await startWorkers(4, name, log);
      const startAt = Math.ceil(((await redisNow(raw)) + 1500) / 1000) * 1000;
      const lastTick = startAt + 29_000;
      await queue.schedule('tick', { every: 1000 }, { name: 'tick' }, { startAt });

      // Halfway, one process dies abruptly; the other three carry on.
      while ((await redisNow(raw)) < startAt + 14_500) await sleep(100);
      await workers[0]!.kill9();

      const lastId = `sched:tick:${lastTick}`;
      await waitFor('the 30th tick', async () => (await queue.getJob(lastId)) !== null, 25_000);
      await queue.unschedule('tick');

      const ticks = (await ticksMade(raw, queue, 'tick')).filter((t) => t <= lastTick);
      assert.deepEqual(
        ticks,
        Array.from({ length: 30 }, (_, k) => startAt + k * 1000),
      );
      await waitFor(
        'every job to complete',
        async () => (await queue.getCounts()).completed >= (await ticksMade(raw, queue, 'tick')).length,
        15_000,
      );
      const ran = logLines(log).filter((id) => id.startsWith('sched:tick:'));
      // Each job ran once, except that one the killed process held may have run again (at-least-once).
      assert.ok(new Set(ran).size === (await ticksMade(raw, queue, 'tick')).length, 'every job ran');
      assert.ok(ran.length - new Set(ran).size <= 1, `runs: ${ran.length}, jobs: ${new Set(ran).size}`);
    } finally {
      await killWorkerProcesses();
      await queue.close();
    }
  });

  test('after every process was down, catchUp one makes one job for the missed ticks and skip none; both resume on the grid', async () => {
    const name = uniqueName('sched-down');
    const log = join(tmp, `${name}.log`);
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    try {
      await startWorkers(2, name, log);
      await queue.schedule('one', { every: 1000 }, { name: 'n' }, { catchUp: 'one' });
      await queue.schedule('skip', { every: 1000 }, { name: 'n' }, { catchUp: 'skip' });
      await waitFor(
        'three ticks each',
        async () => (await ticksMade(raw, queue, 'skip')).length >= 3,
        10_000,
      );

      await killWorkerProcesses();
      const before = { one: await ticksMade(raw, queue, 'one'), skip: await ticksMade(raw, queue, 'skip') };
      const nextAtStop = new Map((await queue.schedules()).map((s) => [s.id, s.next]));
      await sleep(MISFIRE_MS + 2500); // every tick missed by more than the misfire threshold

      const restartedAt = await redisNow(raw);
      await startWorkers(2, name, log);
      const readyAt = await redisNow(raw); // the new schedulers run by now
      await sleep(3500);
      await queue.unschedule('one');
      await queue.unschedule('skip');

      for (const id of ['one', 'skip'] as const) {
        const all = await ticksMade(raw, queue, id);
        assertConsecutive(before[id], 1000, `${id} before the stop`);
        const lastBefore = before[id].at(-1)!;
        const missed = all.filter((t) => t > lastBefore && t < restartedAt);
        const resumed = all.filter((t) => t >= restartedAt);
        if (id === 'one')
          assert.deepEqual(missed, [nextAtStop.get(id)], 'one job, for the first missed tick');
        else assert.deepEqual(missed, [], 'no job for missed ticks');
        assert.ok(resumed.length >= 2, `${id} resumed with ${resumed.length} ticks`);
        assertConsecutive(resumed, 1000, `${id} after the restart`);
        assert.equal(resumed[0]! % 1000, 0, 'back on the grid');
        assert.ok(resumed[0]! < readyAt + 1500, 'from the first tick after the restart');
      }
    } finally {
      await killWorkerProcesses();
      await queue.close();
    }
  });
});
