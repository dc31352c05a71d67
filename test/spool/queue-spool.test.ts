import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { Queue, Worker } from '../../src/index.js';
import { SpoolFullError, SpoolLockedError } from '../../src/spool/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet as silent, uniqueName, waitFor } from '../helpers/worker-process.js';

requireRedisServer();

let redis: RedisProcess;
let tmp: string;

before(async () => {
  redis = await startRedis({ aof: true, args: ['--appendfsync', 'always'] });
  tmp = mkdtempSync(join(tmpdir(), 'hopper-spool-'));
});

after(async () => {
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const spoolDir = (label: string) => join(tmp, uniqueName(label));

/** Runs every job of `name` with one worker; returns the data of the jobs in the order they ran. */
async function runAll(name: string, expected: number): Promise<{ p: number; n: number }[]> {
  const seen: { p: number; n: number }[] = [];
  const worker = new Worker<{ p: number; n: number }>(
    name,
    async (job) => {
      seen.push(job.data);
    },
    { connection: redis.url, concurrency: 1, logger: silent },
  );
  await waitFor(`${expected} jobs run`, () => seen.length >= expected, 30_000);
  await sleep(300); // a duplicate would show up here
  await worker.close();
  return seen;
}

describe('queue spool', () => {
  test('Redis down for 3 s while 2,000 jobs are added by two producers: all run once, in order per producer', async () => {
    const name = uniqueName('outage');
    const producers = [0, 1].map(
      () =>
        new Queue(name, {
          connection: redis.url,
          logger: silent,
          spool: { dir: spoolDir('outage'), timeout: 300, fsync: 'interval' },
        }),
    );
    const spooling: number[] = [];
    for (const [p, q] of producers.entries()) q.spool!.on('spooling', () => spooling.push(p));
    const produce = async (q: Queue, p: number) => {
      for (let n = 0; n < 1000; n += 20) {
        const batch = Array.from({ length: 20 }, (_, i) => q.add('j', { p, n: n + i }));
        const ids = await Promise.all(batch);
        assert.equal(new Set(ids).size, 20);
        await sleep(5);
      }
    };
    const done = Promise.all(producers.map((q, p) => produce(q, p)));
    await sleep(200);
    await redis.kill9();
    await sleep(3000);
    await redis.restart();
    await done;
    assert.deepEqual(spooling.sort(), [0, 1], 'both producers spooled during the outage');
    for (const q of producers)
      await waitFor(
        'spool drained',
        () => q.spoolStats()!.depth === 0 && q.spoolStats()!.state === 'direct',
        15_000,
      );
    const seen = await runAll(name, 2000);
    assert.equal(seen.length, 2000);
    for (const p of [0, 1]) {
      const ns = seen.filter((d) => d.p === p).map((d) => d.n);
      assert.deepEqual(
        ns,
        Array.from({ length: 1000 }, (_, i) => i),
        `producer ${p}: each job once, in order`,
      );
    }
    await Promise.all(producers.map((q) => q.close()));
  });

  test('Redis frozen (SIGSTOP) for 2 s: batches it answers late are not applied again by the replay', async () => {
    const name = uniqueName('frozen');
    const q = new Queue(name, {
      connection: redis.url,
      logger: silent,
      spool: { dir: spoolDir('frozen'), timeout: 200 },
    });
    await q.add('warm', { p: 0, n: -1 });
    const pid = Number(
      /process_id:(\d+)/.exec(await (q as unknown as { client: Redis }).client.info('server'))![1],
    );
    let n = 0;
    let stop = false;
    const produce = (async () => {
      while (!stop) {
        await Promise.all(Array.from({ length: 10 }, () => q.add('j', { p: 0, n: n++ })));
        await sleep(5);
      }
    })();
    await sleep(100);
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(2000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await sleep(300);
    stop = true;
    await produce;
    assert.ok(q.spoolStats()!.replayed > 0 || q.spoolStats()!.depth > 0, 'adds were spooled');
    await waitFor(
      'spool drained',
      () => q.spoolStats()!.depth === 0 && q.spoolStats()!.state === 'direct',
      15_000,
    );
    const ns = (await q.getJobs('waiting', 0, -1)).map((j) => (j.data as { n: number }).n);
    assert.deepEqual(
      ns,
      Array.from({ length: n + 1 }, (_, i) => i - 1),
      'each job once, in order',
    );
    await q.obliterate({ force: true });
    await q.close();
  });

  test('a full spool refuses with SpoolFullError; what it took is replayed', async () => {
    const name = uniqueName('full');
    const q = new Queue(name, {
      connection: redis.url,
      logger: silent,
      spool: { dir: spoolDir('full'), maxBytes: 64 * 1024, timeout: 200 },
    });
    await q.add('warm', { n: -1 });
    await redis.kill9();
    const data = 'x'.repeat(1000);
    let taken = 0;
    let refused: unknown;
    for (let n = 0; n < 200 && !refused; n++) {
      try {
        await q.add('j', { data, n });
        taken++;
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused instanceof SpoolFullError, `refused with ${refused}`);
    assert.ok(taken > 30 && taken < 70, `took ${taken} jobs of 1 KB in 64 KiB`);
    assert.ok(q.spoolStats()!.depth === taken);
    await redis.restart();
    await waitFor('spool drained', () => q.spoolStats()!.depth === 0, 15_000);
    assert.equal((await q.getCounts()).waiting, taken + 1);
    await q.obliterate({ force: true });
    await q.close();
  });

  test('bad spool options: a ValidationError naming the field; a held directory: SpoolLockedError', async () => {
    const bad: [unknown, string][] = [
      ['/tmp/x', 'spool'],
      [{}, 'spool.dir'],
      [{ dir: '' }, 'spool.dir'],
      [{ dir: spoolDir('bad'), maxBytes: -1 }, 'spool.maxBytes'],
      [{ dir: spoolDir('bad'), maxBytes: 1.5 }, 'spool.maxBytes'],
      [{ dir: spoolDir('bad'), fsync: 'sometimes' }, 'spool.fsync'],
      [{ dir: spoolDir('bad'), timeout: 10 }, 'spool.timeout'],
      [{ dir: spoolDir('bad'), size: 1 }, 'spool.size'],
    ];
    for (const [spool, field] of bad)
      assert.throws(
        () => new Queue('q', { connection: redis.url, spool: spool as never }),
        (err: unknown) => err instanceof ValidationError && err.field === field,
        `${JSON.stringify(spool)} -> ${field}`,
      );
    const dir = spoolDir('locked');
    const first = new Queue(uniqueName('lock'), { connection: redis.url, logger: silent, spool: { dir } });
    assert.throws(
      () => new Queue(uniqueName('lock'), { connection: redis.url, spool: { dir } }),
      (err: unknown) => err instanceof SpoolLockedError && err.pid === process.pid,
    );
    await first.close();
    const again = new Queue(uniqueName('lock'), { connection: redis.url, logger: silent, spool: { dir } });
    await again.close();
  });
});
