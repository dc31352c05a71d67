import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Cache } from '../../src/cache/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { type CacheProcess, startCacheProcesses } from './cache-process.js';

requireRedisServer();

/** Invalidation must reach other processes' memory tiers within this: typically a few ms, with room for a loaded 2-core machine. */
const INVALIDATION_BOUND_MS = 500;

describe('cache across processes', () => {
  let redis: RedisProcess;
  let admin: Redis;
  let procs: CacheProcess[] = [];

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    procs = await startCacheProcesses(4, { REDIS_URL: redis.url, LOCK_TTL_MS: '500' });
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.kill9()));
    admin.disconnect();
    await redis.stop();
  });

  it('4 processes asking for the same cold key at once (25 callers each) call the loader once', async () => {
    const results = await Promise.all(
      procs.map((p) => p.call<{ pid: number }[]>('getOrSet', { key: 'cold', n: 25, loaderMs: 300 })),
    );
    assert.equal(await admin.get('calls:cold'), '1');
    const pids = new Set(results.flat().map((v) => v.pid));
    assert.equal(pids.size, 1, 'every caller got the one loaded value');
    assert.equal(results.flat().length, 100);
  });

  it("set and delete in one process are visible in the others' memory tiers within the bound", async () => {
    const writer = new Cache({ connection: redis.url, logger: pino({ level: 'silent' }) });
    await writer.ready();
    try {
      await writer.set('shared', 'v1');
      for (const p of procs) assert.equal(await p.call('get', { key: 'shared' }), 'v1');
      // Now in every memory tier: a later get does not reach Redis. (The set's invalidation can
      // reach a process after its first read and drop that copy, so read until memory serves.)
      for (const p of procs) {
        let hits = 0;
        for (let i = 0; i < 50 && hits === 0; i++) {
          assert.equal(await p.call('get', { key: 'shared' }), 'v1');
          hits = (await p.call<{ memory: { hits: number } }>('stats', {})).memory.hits;
          if (hits === 0) await sleep(20);
        }
        assert.ok(hits >= 1, 'memory served the key');
      }
      for (const [next, write] of [
        ['v2', () => writer.set('shared', 'v2')],
        [null, () => writer.delete('shared')],
      ] as const) {
        const from = JSON.stringify(next === 'v2' ? 'v1' : 'v2');
        const seen = procs.map((p) => p.call<number>('watch', { key: 'shared', from }));
        await sleep(20); // the watchers are polling their memory tier
        const t0 = Date.now();
        await write();
        const lags = (await Promise.all(seen)).map((at) => at - t0);
        for (const p of procs) assert.equal(await p.call('get', { key: 'shared' }), next);
        assert.ok(Math.max(...lags) < INVALIDATION_BOUND_MS, `lags ${lags.join(', ')} ms`);
      }
      // The writer's own memory tier kept its own write (no self-eviction).
      await writer.set('mine', 1);
      await sleep(50);
      assert.equal(await writer.get('mine'), 1);
      assert.equal(writer.stats().memory.hits, 1);
    } finally {
      await writer.close();
    }
  });

  it('when the lock holder dies, a waiter loads after the lock lapses', async () => {
    const [holder, waiter] = procs as [CacheProcess, CacheProcess];
    const hung = holder.call('getOrSet', { key: 'orphan', hang: true });
    hung.catch(() => {});
    // Wait until the holder is inside its loader (it counts the call first), holding the lock.
    for (let i = 0; i < 200 && (await admin.get('calls:orphan')) !== '1'; i++) await sleep(10);
    assert.equal(await admin.exists('hopper:cache:default:l:{k:orphan}'), 1);
    await holder.kill9();
    const t0 = Date.now();
    const [value] = await waiter.call<{ pid: number }[]>('getOrSet', { key: 'orphan', loaderMs: 10 });
    assert.equal(value!.pid, waiter.proc.pid);
    assert.equal(await admin.get('calls:orphan'), '2');
    // The lock lives 500 ms; the waiter polls at most every 200 ms.
    assert.ok(Date.now() - t0 < 2_000, `${Date.now() - t0} ms`);
  });
});
