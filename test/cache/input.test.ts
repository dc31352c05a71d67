import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Cache, LoaderError, LoaderTimeoutError } from '../../src/cache/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();

/** Asserts a ValidationError naming `field`. */
const names = (field: string) => (err: unknown) => {
  assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
  assert.equal(err.field, field);
  return true;
};

describe('cache bad input', () => {
  let redis: RedisProcess;
  let admin: Redis;
  let cache: Cache;

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    cache = new Cache({ connection: redis.url, loaderTimeout: 200, logger: pino({ level: 'silent' }) });
    await cache.ready();
  });
  after(async () => {
    await cache.close();
    admin.disconnect();
    await redis.stop();
  });

  const nothingWritten = async () => {
    assert.equal(await admin.dbsize(), 0);
    assert.equal(cache.stats().memory.entries, 0);
  };

  it('ttl zero or negative names ttl', async () => {
    await assert.rejects(cache.set('k', 1, { ttl: 0 }), names('ttl'));
    await assert.rejects(cache.set('k', 1, { ttl: -5 }), names('ttl'));
    await assert.rejects(
      cache.getOrSet('k', () => 1, { ttl: 0 }),
      names('ttl'),
    );
    await assert.rejects(cache.set('k', 1, { ttl: Number.NaN }), names('ttl'));
    await assert.rejects(cache.set('k', 1, { grace: -1 }), names('grace'));
    assert.throws(() => new Cache({ ttl: 0 }), names('ttl'));
    await nothingWritten();
  });

  it('empty and too-long keys name key', async () => {
    await assert.rejects(cache.set('', 1), names('key'));
    await assert.rejects(cache.get(''), names('key'));
    await assert.rejects(
      cache.getOrSet('x'.repeat(1025), () => 1),
      names('key'),
    );
    // 342 three-byte characters are 1026 bytes though only 342 UTF-16 units.
    await assert.rejects(cache.set('€'.repeat(342), 1), names('key'));
    await assert.rejects(cache.getMany(['ok', '']), names('keys'));
    await cache.set('x'.repeat(1024), 'longest allowed');
    assert.equal(await cache.get('x'.repeat(1024)), 'longest allowed');
    await cache.delete('x'.repeat(1024));
    await nothingWritten();
  });

  it('values JSON cannot carry name value (BigInt, circular, undefined)', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(cache.set('k', 10n), names('value'));
    await assert.rejects(cache.set('k', circular), names('value'));
    await assert.rejects(cache.set('k', undefined), names('value'));
    await assert.rejects(
      cache.getOrSet('k', () => ({ n: 1n })),
      names('value'),
    );
    await nothingWritten();
    // The loader lock was released, so the next caller loads at once.
    assert.equal(await cache.getOrSet('k', () => 'fine'), 'fine');
    await cache.delete('k');
  });

  it('a loader that throws rejects every waiting caller with LoaderError, writes nothing, frees the key', async () => {
    let calls = 0;
    const boom = new Error('upstream down');
    const failing = () => {
      calls++;
      throw boom;
    };
    // Ten callers of one process share the one load in flight, and its failure.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => cache.getOrSet('throws', failing)),
    );
    assert.equal(calls, 1);
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as LoaderError;
      assert.ok(err instanceof LoaderError, String(err));
      assert.equal(err.key, 'throws');
      assert.equal(err.cause, boom);
    }
    await nothingWritten();
    // The loader lock was released: the next caller loads at once.
    const t0 = Date.now();
    assert.equal(await cache.getOrSet('throws', () => 'fine'), 'fine');
    assert.ok(Date.now() - t0 < 1_000, 'no wait for a lapsed lock');
    await cache.delete('throws');
  });

  it('a loader that never settles times out with LoaderTimeoutError and writes nothing', async () => {
    const t0 = Date.now();
    await assert.rejects(
      cache.getOrSet('never', () => new Promise(() => {})),
      (err: unknown) => {
        assert.ok(err instanceof LoaderTimeoutError);
        assert.match((err as Error).message, /never.*200 ms/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 2_000);
    assert.equal(cache.stats().loader.timeouts, 1);
    await nothingWritten();
  });
});
