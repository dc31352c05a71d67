import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiter, type RateLimiterOptions } from '../../src/ratelimit/index.js';
import { PACKED_LOG_MAX_LIMIT } from '../../src/ratelimit/storage.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

// The exact sliding window keeps its log in a packed string up to PACKED_LOG_MAX_LIMIT and in a
// sorted set above it (algorithms.test.ts covers the string with limit 5): both must give the
// same answers, and each must share its reads and writes among checks on one key in one call.
const fx = new RedisFixture();
let n = 0;
const fresh = (label: string) => `${label}-${++n}`;

function make(limit: number, extra: Partial<RateLimiterOptions> = {}): RateLimiter {
  return fx.track(
    new RateLimiter({
      connection: fx.connection,
      algorithm: 'sliding-window',
      limit,
      window: 1000,
      ...extra,
    }),
  );
}

/** Calls of each command so far (INFO commandstats), to see what a script did. */
async function commandCalls(): Promise<Map<string, number>> {
  const info = await fx.raw.info('commandstats');
  return new Map([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

async function callsDuring(fn: () => Promise<unknown>): Promise<(cmd: string) => number> {
  const before = await commandCalls();
  await fn();
  const after = await commandCalls();
  return (cmd) => (after.get(cmd) ?? 0) - (before.get(cmd) ?? 0);
}

const STORAGES = [
  {
    name: 'packed string',
    limit: PACKED_LOG_MAX_LIMIT,
    tag: 'swl',
    type: 'string',
    read: 'get',
    write: 'append',
    // The log lives up to 2W after its newest unit (see includes/sliding-window-packed.lua).
    maxTtl: 2000,
  },
  {
    name: 'sorted set',
    limit: PACKED_LOG_MAX_LIMIT + 88,
    tag: 'sw',
    type: 'zset',
    read: 'zremrangebyscore',
    write: 'pexpire',
    maxTtl: 1000,
  },
] as const;

/** Units held in a key: sorted set members, or 4-byte entries after the packed log's 16-byte header. */
async function unitsIn(type: 'zset' | 'string', redisKey: string): Promise<number> {
  return type === 'zset' ? fx.raw.zcard(redisKey) : ((await fx.raw.strlen(redisKey)) - 16) / 4;
}

for (const s of STORAGES) {
  describe(`sliding-window, ${s.name} (limit ${s.limit})`, () => {
    test('exactly limit pass; the denied check waits for the oldest units to leave', async () => {
      const l = make(s.limit);
      const key = fresh('exact');
      const started = Date.now();
      const first = await l.limit(key, { cost: s.limit - 5 });
      assert.deepEqual(first, {
        allowed: true,
        limit: s.limit,
        remaining: 5,
        resetMs: 1000,
        retryAfterMs: 0,
      });
      for (let i = 1; i <= 5; i++) assert.equal((await l.limit(key)).remaining, 5 - i);
      const denied = await l.limit(key);
      const elapsed = Date.now() - started;
      assert.equal(denied.allowed, false);
      assert.equal(denied.remaining, 0);
      // The first check's units are the oldest: the next unit fits once they leave, 1 s after it.
      assert.ok(Math.abs(denied.retryAfterMs - (1000 - elapsed)) <= elapsed + 20, `${denied.retryAfterMs}`);
      assert.ok(denied.resetMs >= denied.retryAfterMs && denied.resetMs <= 1000, `${denied.resetMs}`);
      // A cost of 6 needs the first check's units and one more to leave: still the same time here,
      // since the five singles came after it.
      assert.equal((await l.limit(key, { cost: 6 })).allowed, false);
      assert.equal((await l.peek(key)).allowed, false);
      assert.equal(await fx.raw.type(`{hopper:rl}:${s.tag}:1000:${key}`), s.type);
      await sleep(denied.retryAfterMs + 5);
      const again = await l.limit(key, { cost: 5 });
      assert.equal(again.allowed, true, 'allowed again after retryAfterMs');
      // The five singles may have left too by now (they came right after the first check).
      assert.ok(again.remaining >= s.limit - 10 && again.remaining <= s.limit - 5, `${again.remaining}`);
    });

    test('peek consumes nothing; reset clears', async () => {
      const l = make(s.limit);
      const key = fresh('peek');
      assert.deepEqual(await l.peek(key), {
        allowed: true,
        limit: s.limit,
        remaining: s.limit,
        resetMs: 0,
        retryAfterMs: 0,
      });
      await l.limit(key, { cost: 3 });
      assert.equal((await l.peek(key)).remaining, s.limit - 3);
      assert.equal((await l.peek(key)).remaining, s.limit - 3);
      assert.equal(await l.reset(key), true);
      assert.equal((await l.limit(key)).remaining, s.limit - 1);
    });

    test('50 checks on one key in one call: in order, one read and one write of the key', async () => {
      const l = make(s.limit);
      const key = fresh('hot');
      await l.limit(key, { cost: s.limit - 20 });
      let results: Awaited<ReturnType<RateLimiter['limit']>>[] = [];
      const calls = await callsDuring(async () => {
        results = await Promise.all(Array.from({ length: 50 }, () => l.limit(key)));
      });
      assert.equal(calls('evalsha'), 1);
      assert.equal(calls(s.read), 1, `${s.read} once for the key`);
      assert.equal(calls(s.write), 1, `${s.write} once for the key`);
      assert.deepEqual(
        results.map((r) => r.remaining),
        [...Array.from({ length: 20 }, (_, i) => 19 - i), ...Array.from({ length: 30 }, () => 0)],
      );
      assert.equal(results.filter((r) => r.allowed).length, 20);
      const pttl = await fx.raw.pttl(`{hopper:rl}:${s.tag}:1000:${key}`);
      assert.ok(pttl > 0 && pttl <= s.maxTtl, `pttl ${pttl}`);
    });

    test('units that left the window are dropped when the key is rewritten', async () => {
      const l = make(s.limit, { window: 200 });
      const key = fresh('trim');
      const redisKey = `{hopper:rl}:${s.tag}:200:${key}`;
      await l.limit(key, { cost: 10 });
      await sleep(250);
      // Past the first units' window and (packed log) past its expiry margin: rewritten.
      await l.limit(key, { cost: 2 });
      assert.equal(await unitsIn(s.type, redisKey), 2);
    });
  });
}

/** A packed log as the script stores it: expiry (ms) and base (µs) as doubles, then 4-byte offsets. */
function packedLog(expiresAtMs: number, baseUs: number, offsets: number[]): Buffer {
  const log = Buffer.alloc(16 + offsets.length * 4);
  log.writeDoubleLE(expiresAtMs, 0);
  log.writeDoubleLE(baseUs, 8);
  for (const [i, o] of offsets.entries()) log.writeUInt32LE(o, 16 + i * 4);
  return log;
}

async function redisNowUs(): Promise<number> {
  const [sec, usec] = await fx.raw.time();
  return Number(sec) * 1e6 + Number(usec);
}

test('packed log: a unit is never stamped before the newest one (Redis clock stepped back)', async () => {
  const l = make(10);
  const key = fresh('clock');
  const redisKey = `{hopper:rl}:swl:1000:${key}`;
  // A log written by a server whose clock ran 3 s ahead: its one unit lies in our future.
  const ahead = (await redisNowUs()) + 3_000_000;
  await fx.raw.set(redisKey, packedLog(ahead / 1000 + 2000, ahead, [0]), 'PX', 10_000);
  const r = await l.limit(key);
  assert.equal(r.allowed, true);
  assert.equal(r.remaining, 8);
  // The new unit takes the newest one's time, so it stays counted until 1 s after that.
  assert.ok(r.resetMs > 3900 && r.resetMs <= 4000, `resetMs ${r.resetMs}`);
  const stored = await fx.raw.getBuffer(redisKey);
  assert.equal(stored!.length, 16 + 8);
  assert.equal(stored!.readUInt32LE(20), stored!.readUInt32LE(16));
});

test('packed log: units that left are kept until `slack` of them pile up, then dropped in one rewrite', async () => {
  const l = make(10);
  const key = fresh('slack');
  const redisKey = `{hopper:rl}:swl:1000:${key}`;
  // Ten units that left the window 4 s ago, in a log whose expiry still has 10 s to go.
  const now = await redisNowUs();
  await fx.raw.set(
    redisKey,
    packedLog(now / 1000 + 10_000, now - 5_000_000, Array(10).fill(0)),
    'PX',
    10_000,
  );
  // slack is max(8, limit / 4) = 8: the log may hold limit + 8 units before it is rewritten.
  assert.equal((await l.limit(key, { cost: 8 })).remaining, 2);
  assert.equal(await unitsIn('string', redisKey), 18, 'appended: the 10 that left are still there');
  assert.equal((await l.limit(key)).remaining, 1, 'only the 8 in the window count');
  assert.equal(await unitsIn('string', redisKey), 9, 'rewritten: the 10 that left are gone');
});

test('packed log: the base moves when offsets outgrow 4 bytes (71 minutes)', async () => {
  const l = make(10);
  const key = fresh('rebase');
  const redisKey = `{hopper:rl}:swl:1000:${key}`;
  // One unit 100 ms ago, stored at the largest offset 4 bytes hold: the next one does not fit.
  const unit = (await redisNowUs()) - 100_000;
  const base = unit - 0xffffffff;
  await fx.raw.set(redisKey, packedLog(unit / 1000 + 2000, base, [0xffffffff]), 'PX', 10_000);
  const r = await l.limit(key);
  assert.equal(r.allowed, true);
  assert.equal(r.remaining, 8, 'the old unit is still counted');
  const stored = await fx.raw.getBuffer(redisKey);
  assert.equal(stored!.readDoubleLE(8), unit, 'the base is now the oldest unit kept');
  assert.equal(stored!.length, 16 + 8);
  assert.equal(stored!.readUInt32LE(16), 0);
  assert.ok(stored!.readUInt32LE(20) >= 100_000, 'the new unit, 100 ms or more after it');
});
