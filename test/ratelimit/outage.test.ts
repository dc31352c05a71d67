import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type OnRedisError, RateLimiter } from '../../src/ratelimit/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
let redis: RedisProcess;
const limiters: RateLimiter[] = [];
const fallbacks = new Map<RateLimiter, Error[]>();

function make(onRedisError: OnRedisError, url = redis.url): RateLimiter {
  const errors: Error[] = [];
  const l = new RateLimiter({
    connection: url,
    algorithm: 'sliding-window',
    limit: 3,
    window: 10_000,
    onRedisError,
    timeoutMs: 200,
    onFallback: (e) => errors.push(e),
  });
  fallbacks.set(l, errors);
  limiters.push(l);
  return l;
}

async function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const v = await p;
  return [v, Date.now() - t];
}

/** Polls until the limiter's checks are answered by Redis again (the key shows up there). */
async function waitForRecovery(l: RateLimiter, url: string): Promise<void> {
  const raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  raw.on('error', () => {});
  const deadline = Date.now() + 15_000;
  try {
    for (let i = 0; Date.now() < deadline; i++) {
      const key = `probe-${i}`;
      await l.limit(key);
      try {
        if (raw.status !== 'ready') await raw.connect();
        if ((await raw.exists(`{hopper:rl}:swl:10000:${key}`)) === 1) return;
      } catch {
        // server not back yet
      }
      await sleep(100);
    }
  } finally {
    raw.disconnect();
  }
  throw new Error('limiter did not use Redis again within 15 s of the restart');
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  await redis.stop();
});

describe('Redis down (kill -9), then restarted', () => {
  test('open allows, closed denies, memory limits per process; never throws; all recover', async () => {
    const open = make('open');
    const closed = make('closed');
    const memory = make('memory');
    for (const l of [open, closed, memory]) assert.equal((await l.limit('warm')).allowed, true);

    await redis.kill9();

    const [o, oMs] = await timed(open.limit('u'));
    assert.deepEqual(o, { allowed: true, limit: 3, remaining: 3, resetMs: 0, retryAfterMs: 0 });
    const [c, cMs] = await timed(closed.limit('u'));
    assert.equal(c.allowed, false);
    assert.equal(c.retryAfterMs, 1000);
    assert.ok(oMs < 1000 && cMs < 1000, `answers came in ${oMs} / ${cMs} ms`);
    assert.equal((await closed.peek('u')).allowed, false);
    assert.equal((await open.peek('u')).allowed, true);

    // The memory stand-in runs the same algorithm in this process.
    const m = [];
    for (let i = 0; i < 4; i++) m.push(await memory.limit('u'));
    assert.deepEqual(
      m.map((r) => [r.allowed, r.remaining]),
      [
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ],
    );
    assert.ok(m[3]!.retryAfterMs > 9000 && m[3]!.retryAfterMs <= 10_000);
    assert.equal((await memory.peek('u')).remaining, 0);
    assert.equal(await memory.reset('u'), false, 'reset reports that Redis was not reached');
    assert.equal((await memory.limit('u')).remaining, 2, 'memory state was cleared');

    for (const l of [open, closed, memory]) {
      const errors = fallbacks.get(l)!;
      assert.ok(errors.length > 0, 'onFallback was told');
      assert.ok(errors.every((e) => e instanceof Error));
    }

    await redis.restart();
    for (const l of [open, closed, memory]) await waitForRecovery(l, redis.url);
    // Back on Redis: the state there is what counts (the memory-mode hits stayed in memory).
    const back = await closed.limit('after-restart');
    assert.deepEqual([back.allowed, back.remaining], [true, 2]);
    assert.equal(await memory.reset('after-restart'), true);
  });
});

describe('Redis slower than timeoutMs (CLIENT PAUSE)', () => {
  test('each mode answers within about timeoutMs, then Redis answers again', async () => {
    const open = make('open');
    const closed = make('closed');
    const memory = make('memory');
    for (const l of [open, closed, memory]) await l.limit('slow-warm');
    const admin = new Redis(redis.url);
    await admin.client('PAUSE', 800, 'ALL');
    const [[o, c, m], ms] = await timed(
      Promise.all([open.limit('slow'), closed.limit('slow'), memory.limit('slow')]),
    );
    assert.ok(ms >= 150 && ms < 700, `fallback after ${ms} ms`);
    assert.equal(o.allowed, true);
    assert.equal(c.allowed, false);
    assert.deepEqual([m.allowed, m.remaining], [true, 2]);
    await sleep(800);
    const after = await closed.limit('slow-after');
    assert.deepEqual([after.allowed, after.remaining], [true, 2]);
    admin.disconnect();
  });
});

describe('Redis never reachable', () => {
  test('a limiter whose server is gone from the start falls back, no throw', async () => {
    const gone = await startRedis();
    const url = gone.url;
    await gone.stop();
    const closed = make('closed', url);
    const memory = make('memory', url);
    const [c, ms] = await timed(closed.limit('x'));
    assert.equal(c.allowed, false);
    assert.ok(ms < 1500, `answered after ${ms} ms`);
    assert.equal((await memory.limit('x')).remaining, 2);
    assert.equal(await memory.reset('x'), false);
  });
});
