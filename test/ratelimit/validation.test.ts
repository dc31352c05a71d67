import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RateLimiter, type RateLimiterOptions } from '../../src/ratelimit/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
let redis: RedisProcess;
let limiter: RateLimiter;
let bucket: RateLimiter;

before(async () => {
  redis = await startRedis();
  limiter = new RateLimiter({ connection: redis.url, algorithm: 'fixed-window', limit: 5, window: 1000 });
  bucket = new RateLimiter({ connection: redis.url, algorithm: 'gcra', limit: 5, window: 1000, burst: 2 });
});
after(async () => {
  await limiter.close();
  await bucket.close();
  await redis.stop();
});

const names = (field: string) => (e: unknown) => e instanceof ValidationError && e.field === field;
const base: RateLimiterOptions = {
  algorithm: 'fixed-window',
  limit: 10,
  window: 1000,
  connection: 'redis://x:1',
};

describe('bad configuration throws ValidationError naming the field', () => {
  const cases: [string, Partial<Record<keyof RateLimiterOptions, unknown>>, string][] = [
    ['limit 0', { limit: 0 }, 'limit'],
    ['limit negative', { limit: -1 }, 'limit'],
    ['limit not an integer', { limit: 1.5 }, 'limit'],
    ['limit not a number', { limit: '10' }, 'limit'],
    ['window 0', { window: 0 }, 'window'],
    ['window negative', { window: -1000 }, 'window'],
    ['window not an integer', { window: 0.5 }, 'window'],
    ['window NaN', { window: Number.NaN }, 'window'],
    ['unknown algorithm', { algorithm: 'leaky' }, 'algorithm'],
    ['burst on a window algorithm', { burst: 3 }, 'burst'],
    ['burst 0', { algorithm: 'gcra', burst: 0 }, 'burst'],
    ['burst not an integer', { algorithm: 'token-bucket', burst: 2.5 }, 'burst'],
    ['unknown onRedisError', { onRedisError: 'retry' }, 'onRedisError'],
    ['timeoutMs 0', { timeoutMs: 0 }, 'timeoutMs'],
    ['empty prefix', { prefix: '' }, 'prefix'],
    ['prefix with a brace', { prefix: 'a{b' }, 'prefix'],
    ['sliding window limit too large', { algorithm: 'sliding-window', limit: 1_000_000 }, 'limit'],
    ['bad connection URL', { connection: 'http://localhost' }, 'connection'],
  ];
  for (const [what, patch, field] of cases) {
    test(what, () => {
      assert.throws(() => new RateLimiter({ ...base, ...patch } as RateLimiterOptions), names(field));
    });
  }
});

describe('bad calls reject with ValidationError naming the field', () => {
  test('empty key', async () => {
    await assert.rejects(limiter.limit(''), names('key'));
    await assert.rejects(limiter.peek(''), names('key'));
    await assert.rejects(limiter.reset(''), names('key'));
  });
  test('key not a string', async () => {
    await assert.rejects(limiter.limit(42 as unknown as string), names('key'));
  });
  test('key over 512 bytes (UTF-8)', async () => {
    await assert.rejects(limiter.limit('k'.repeat(513)), names('key'));
    // 171 three-byte characters: 513 bytes though only 171 UTF-16 units.
    await assert.rejects(limiter.limit('€'.repeat(171)), names('key'));
    assert.equal((await limiter.limit('k'.repeat(512))).allowed, true);
  });
  test('cost below 1, fractional, or more than can ever pass', async () => {
    await assert.rejects(limiter.limit('c', { cost: 0 }), names('cost'));
    await assert.rejects(limiter.limit('c', { cost: -2 }), names('cost'));
    await assert.rejects(limiter.limit('c', { cost: 1.5 }), names('cost'));
    await assert.rejects(limiter.limit('c', { cost: 6 }), names('cost'));
    await assert.rejects(bucket.limit('c', { cost: 3 }), names('cost'), 'burst caps the cost');
    assert.equal((await bucket.limit('c', { cost: 2 })).allowed, true);
  });
});
