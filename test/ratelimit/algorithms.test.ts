import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ALGORITHMS,
  type Algorithm,
  RateLimiter,
  type RateLimiterOptions,
} from '../../src/ratelimit/index.js';
import { PACKED_LOG_MAX_LIMIT } from '../../src/ratelimit/storage.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture();
let n = 0;

function make(algorithm: Algorithm, extra: Partial<RateLimiterOptions> = {}): RateLimiter {
  return fx.track(
    new RateLimiter({ connection: fx.connection, algorithm, limit: 5, window: 1000, ...extra }),
  );
}
const fresh = (label: string) => `${label}-${++n}`;

/** Waits until early in a 1 s window, so a burst of checks cannot straddle a fixed window's edge. */
async function earlyInWindow(): Promise<void> {
  const [s, us] = await fx.raw.time();
  const ms = (Number(s) * 1000 + Math.floor(Number(us) / 1000)) % 1000;
  if (ms > 400) await sleep(1010 - ms);
}

async function evalCalls(): Promise<number> {
  const info = await fx.raw.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) total += Number(m[1]);
  return total;
}

for (const algorithm of ALGORITHMS) {
  describe(algorithm, () => {
    test('allows exactly limit, then denies with remaining, reset and retry-after', async () => {
      const l = make(algorithm);
      const key = fresh('exact');
      await earlyInWindow();
      const started = Date.now();
      for (let i = 1; i <= 5; i++) {
        const r = await l.limit(key);
        assert.equal(r.allowed, true, `check ${i}`);
        assert.equal(r.limit, 5);
        assert.equal(r.remaining, 5 - i, `remaining after check ${i}`);
        assert.equal(r.retryAfterMs, 0);
        // The approximate window still counts a hit until the next window has slid past it.
        const maxReset = algorithm === 'sliding-window-approx' ? 2000 : 1000;
        assert.ok(r.resetMs > 0 && r.resetMs <= maxReset, `resetMs ${r.resetMs}`);
      }
      const denied = await l.limit(key);
      const elapsed = Date.now() - started;
      assert.equal(denied.allowed, false);
      assert.equal(denied.remaining, 0);
      const maxRetry = algorithm === 'sliding-window-approx' ? 2000 : 1000;
      assert.ok(
        denied.retryAfterMs > 0 && denied.retryAfterMs <= maxRetry,
        `retryAfterMs ${denied.retryAfterMs}`,
      );
      if (algorithm === 'sliding-window-approx') {
        // 5 hits this window: the next one fits once their weight drops to 4, 1/5 into the next window.
        const [s, us] = await fx.raw.time();
        const toEdge = 1000 - ((Number(s) * 1000 + Math.floor(Number(us) / 1000)) % 1000);
        assert.ok(
          Math.abs(denied.retryAfterMs - (toEdge + 200)) <= 30,
          `${denied.retryAfterMs} vs ${toEdge + 200}`,
        );
      }
      assert.ok(denied.resetMs >= denied.retryAfterMs, `resetMs ${denied.resetMs}`);
      if (algorithm === 'fixed-window') assert.equal(denied.retryAfterMs, denied.resetMs);
      if (algorithm === 'sliding-window') {
        // The first hit leaves the window 1 s after it was made.
        assert.ok(Math.abs(denied.retryAfterMs - (1000 - elapsed)) <= elapsed + 20, `${denied.retryAfterMs}`);
      }
      if (algorithm === 'token-bucket' || algorithm === 'gcra') {
        // One unit comes back every window / limit = 200 ms.
        assert.ok(
          denied.retryAfterMs <= 200 && denied.retryAfterMs >= 200 - elapsed - 20,
          `${denied.retryAfterMs}`,
        );
      }
      // Denied checks consume nothing, and waiting out retry-after is enough.
      assert.equal((await l.limit(key)).allowed, false);
      const again = await l.peek(key);
      await sleep(again.retryAfterMs + 5);
      assert.equal((await l.limit(key)).allowed, true, 'allowed again after retryAfterMs');
    });

    test('peek consumes nothing; reset clears', async () => {
      const l = make(algorithm);
      const key = fresh('peek');
      await earlyInWindow();
      const p0 = await l.peek(key);
      assert.deepEqual(p0, { allowed: true, limit: 5, remaining: 5, resetMs: 0, retryAfterMs: 0 });
      await l.limit(key, { cost: 2 });
      const p1 = await l.peek(key);
      const p2 = await l.peek(key);
      assert.equal(p1.remaining, 3);
      assert.equal(p2.remaining, 3);
      assert.equal((await l.limit(key)).remaining, 2);
      await l.limit(key, { cost: 2 });
      const spent = await l.peek(key);
      assert.equal(spent.allowed, false);
      assert.ok(spent.retryAfterMs > 0);
      assert.equal(await l.reset(key), true);
      assert.deepEqual(await l.peek(key), p0);
      assert.equal((await l.limit(key)).remaining, 4);
    });

    test('a cost that does not fit is denied and consumes nothing', async () => {
      const l = make(algorithm);
      const key = fresh('cost');
      await earlyInWindow();
      assert.equal((await l.limit(key, { cost: 4 })).remaining, 1);
      const r = await l.limit(key, { cost: 2 });
      assert.equal(r.allowed, false);
      assert.equal(r.remaining, 1);
      assert.equal((await l.limit(key, { cost: 1 })).allowed, true);
    });

    test('checks of one event-loop turn go in one script call, in order', async () => {
      const l = make(algorithm, { limit: 20 });
      await l.limit(fresh('warm'));
      const key = fresh('batch');
      await earlyInWindow();
      const before = await evalCalls();
      const results = await Promise.all(Array.from({ length: 50 }, () => l.limit(key)));
      const calls = (await evalCalls()) - before;
      assert.equal(calls, 1, 'one EVALSHA for 50 checks');
      assert.equal(results.filter((r) => r.allowed).length, 20);
      assert.deepEqual(
        results.slice(0, 20).map((r) => r.remaining),
        Array.from({ length: 20 }, (_, i) => 19 - i),
      );
    });

    test('a call mixing costs charges each check its own cost', async () => {
      const l = make(algorithm, { limit: 20 });
      const [a, b] = [fresh('mixed-a'), fresh('mixed-b')];
      await earlyInWindow();
      const before = await evalCalls();
      const results = await Promise.all([
        l.limit(a),
        l.limit(b, { cost: 7 }),
        l.limit(a, { cost: 3 }),
        l.limit(b),
      ]);
      assert.equal((await evalCalls()) - before, 1);
      assert.deepEqual(
        results.map((r) => [r.allowed, r.remaining]),
        [
          [true, 19],
          [true, 13],
          [true, 16],
          [true, 12],
        ],
      );
    });
  });
}

describe('batching off', () => {
  test('one script call per check, same answers', async () => {
    const l = make('sliding-window', { batch: false });
    const key = fresh('unbatched');
    const before = await evalCalls();
    const results = await Promise.all(Array.from({ length: 8 }, () => l.limit(key)));
    assert.equal((await evalCalls()) - before, 8);
    assert.equal(results.filter((r) => r.allowed).length, 5);
  });
});

describe('burst', () => {
  for (const algorithm of ['token-bucket', 'gcra'] as const) {
    test(`${algorithm}: burst back to back, then limit per window`, async () => {
      const l = make(algorithm, { limit: 10, window: 1000, burst: 3 });
      const key = fresh('burst');
      const rs = [];
      for (let i = 0; i < 4; i++) rs.push(await l.limit(key));
      assert.deepEqual(
        rs.map((r) => r.allowed),
        [true, true, true, false],
      );
      assert.ok(rs[3]!.retryAfterMs <= 100, `refill every 100 ms, got ${rs[3]!.retryAfterMs}`);
    });
  }
});

describe('keys', () => {
  test('state lives under {prefix}:<algorithm>:<window>:<key> and expires', async () => {
    const l = make('fixed-window', { prefix: 'myapp:rl' });
    await l.limit('user:1');
    const ttl = await fx.raw.pttl('{myapp:rl}:fw:1000:user:1');
    assert.ok(ttl > 0 && ttl <= 1000, `pttl ${ttl}`);
    // Up to PACKED_LOG_MAX_LIMIT units the exact sliding window keeps a packed string log: a 16-byte header, 4 bytes per unit.
    const s = make('sliding-window', { prefix: 'myapp:rl' });
    await s.limit('user:1');
    assert.equal(await fx.raw.strlen('{myapp:rl}:swl:1000:user:1'), 16 + 4);
    const big = make('sliding-window', { prefix: 'myapp:rl', limit: PACKED_LOG_MAX_LIMIT + 1 });
    await big.limit('user:1');
    assert.equal(await fx.raw.zcard('{myapp:rl}:sw:1000:user:1'), 1);
    // So does a window over an hour: the packed log's 4-byte offsets would not hold it.
    const long = make('sliding-window', { prefix: 'myapp:rl', window: 7_200_000 });
    await long.limit('user:1');
    assert.equal(await fx.raw.zcard('{myapp:rl}:sw:7200000:user:1'), 1);
    const bucket = make('token-bucket', { prefix: 'myapp:rl' });
    await bucket.limit('user:1');
    assert.ok((await fx.raw.pttl('{myapp:rl}:tbt:1000:user:1')) > 0);
  });
});
