import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Cache } from '../../src/cache/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { type CacheProcess, startCacheProcesses } from './cache-process.js';

// Invalidation by tag and by prefix (seed 001's trading cache): every tier, every process,
// and a write racing an invalidation never leaves a stale value readable afterwards.
requireRedisServer();
const quiet = pino({ level: 'silent' });
/** As in processes.test.ts: room for a loaded 2-core machine. */
const BOUND_MS = 500;

describe('cache invalidation by tag and prefix', () => {
  let redis: RedisProcess;
  let admin: Redis;
  const caches: Cache[] = [];
  const make = async (namespace: string) => {
    const c = new Cache({ connection: redis.url, namespace, logger: quiet, ttl: 60_000 });
    caches.push(c);
    await c.ready();
    return c;
  };

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    admin.disconnect();
    await redis.stop();
  });

  it('invalidateTag removes tagged entries from both tiers of every instance, and only those', async () => {
    const [a, b] = [await make('tag1'), await make('tag1')];
    await a.set('pos:42:BTC', 1, { tags: ['user:42', 'sym:BTC'] });
    await a.set('pos:42:ETH', 2, { tags: ['user:42'] });
    await a.set('pos:7:BTC', 3, { tags: ['user:7', 'sym:BTC'] });
    await a.set('plain', 4);
    const keys = ['pos:42:BTC', 'pos:42:ETH', 'pos:7:BTC', 'plain'];
    assert.deepEqual(await b.getMany(keys), [1, 2, 3, 4]);
    // a's writes reach b over the bus, and a read they overlap does not fill b's memory (it
    // may be stale): read until b serves all four from memory.
    let inMemory = false;
    for (const t0 = Date.now(); !inMemory && Date.now() - t0 < BOUND_MS; await sleep(5)) {
      const hits = b.stats().memory.hits;
      assert.deepEqual(await b.getMany(keys), [1, 2, 3, 4]);
      inMemory = b.stats().memory.hits - hits === keys.length;
    }
    assert.ok(inMemory, 'b holds the entries in memory');

    await a.invalidateTag('user:42');
    // a's own memory at once; b's over the bus within the bound.
    assert.equal(await a.get('pos:42:BTC'), undefined);
    const t0 = Date.now();
    while ((await b.get('pos:42:ETH')) !== undefined && Date.now() - t0 < BOUND_MS) await sleep(5);
    assert.deepEqual(await b.getMany(keys), [undefined, undefined, 3, 4]);
    // Redis itself: a fresh instance (empty memory) misses too, and the reads removed the entries.
    const c = await make('tag1');
    assert.equal(await c.get('pos:42:BTC'), undefined);
    assert.equal(await admin.exists('hopper:cache:tag1:v:{k:pos:42:BTC}'), 0);
    // Set again after the invalidation: readable (a newer generation).
    await a.set('pos:42:BTC', 10, { tags: ['user:42'] });
    assert.equal(await c.get('pos:42:BTC'), 10);
    await a.invalidateTag('sym:BTC');
    assert.equal(await c.get('pos:7:BTC'), undefined);
    assert.equal(await c.get('pos:42:BTC'), 10, 'rewritten without sym:BTC');
  });

  it('a load racing an invalidation: its value is not served afterwards, and the next getOrSet reloads', async () => {
    const [a, b] = [await make('race'), await make('race')];
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const loading = a.getOrSet(
      'quote:BTC',
      async () => {
        calls++;
        await gate; // the old price, read before the invalidation
        return 'old';
      },
      { tags: ['sym:BTC'] },
    );
    while (calls === 0) await sleep(2);
    await b.invalidateTag('sym:BTC');
    release();
    assert.equal(await loading, 'old', 'the caller that loaded gets its own value');
    // Nobody else does: not from Redis, not from a's memory.
    assert.equal(await b.get('quote:BTC'), undefined);
    const t0 = Date.now();
    while ((await a.get('quote:BTC')) !== undefined && Date.now() - t0 < BOUND_MS) await sleep(5);
    assert.equal(await a.get('quote:BTC'), undefined);
    assert.equal(await b.getOrSet('quote:BTC', () => 'new', { tags: ['sym:BTC'] }), 'new');
    assert.equal(await a.getOrSet('quote:BTC', () => 'newer', { tags: ['sym:BTC'] }), 'new');
  });

  it('sets racing invalidations from two instances: afterwards every readable value was written after the last invalidation', async () => {
    const [a, b] = [await make('storm'), await make('storm')];
    for (let round = 0; round < 20; round++) {
      const v = `r${round}`;
      // Both orders happen across rounds; whichever Redis applied last must win.
      await Promise.all([a.set('k', v, { tags: ['t'] }), b.invalidateTag('t')]);
      const gen = Number(await admin.get('hopper:cache:storm:t:{t:t}'));
      const raw = await admin.get('hopper:cache:storm:v:{k:k}');
      const stamped = raw ? Number(/\[\["t",(\d+)\]\]/.exec(raw)?.[1]) : -1;
      const fresh = await make('storm');
      const seen = await fresh.get('k');
      // Readable exactly when the entry carries the current generation (its set came after the bump).
      assert.equal(
        seen === v,
        stamped === gen,
        `round ${round}: seen ${String(seen)} stamped ${stamped} gen ${gen}`,
      );
      await fresh.close();
    }
  });

  it('invalidatePrefix removes every key with the prefix from Redis (in SCAN pages) and every memory tier', async () => {
    const [a, b] = [await make('pfx'), await make('pfx')];
    const n = 2_500; // more than two SCAN pages
    await a.setMany(Array.from({ length: n }, (_, i) => ({ key: `book:BTC:${i}`, value: i })));
    await a.setMany([
      { key: 'book:ETH:1', value: 'eth' },
      { key: 'bookish', value: 'other' },
      { key: 'book:BTC*', value: 'glob chars are literal' },
    ]);
    assert.equal(await b.get('book:BTC:1'), 1);
    assert.equal(await b.get('book:ETH:1'), 'eth');
    const removed = await a.invalidatePrefix('book:BTC:');
    assert.equal(removed, n);
    const t0 = Date.now();
    while ((await b.get('book:BTC:1')) !== undefined && Date.now() - t0 < BOUND_MS) await sleep(5);
    assert.equal(await b.get('book:BTC:1'), undefined);
    assert.equal(await b.get('book:ETH:1'), 'eth');
    assert.deepEqual(await a.getMany(['bookish', 'book:BTC*']), ['other', 'glob chars are literal']);
    assert.equal((await admin.keys('hopper:cache:pfx:v:{k:book:BTC:*')).length, 0);
    // A literal '*' in the prefix matches only itself.
    assert.equal(await a.invalidatePrefix('book:BTC*'), 1);
    assert.equal(await a.get('bookish'), 'other');
  });

  it('bad input is a ValidationError naming the field, and nothing is written', async () => {
    const cache = await make('badtags');
    const names = (field: string) => (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      assert.equal((err as ValidationError).field, field);
      return true;
    };
    await assert.rejects(cache.invalidateTag(''), names('tag'));
    await assert.rejects(cache.invalidateTag(42 as unknown as string), names('tag'));
    await assert.rejects(cache.invalidateTag(undefined as unknown as string), names('tag'));
    await assert.rejects(cache.invalidatePrefix(''), names('prefix'));
    await assert.rejects(cache.invalidatePrefix(['a'] as unknown as string), names('prefix'));
    await assert.rejects(cache.set('k', 1, { tags: 'user:1' as unknown as string[] }), names('tags'));
    await assert.rejects(cache.set('k', 1, { tags: ['ok', ''] }), names('tags[1]'));
    await assert.rejects(cache.set('k', 1, { tags: [7 as unknown as string] }), names('tags[0]'));
    await assert.rejects(
      cache.getOrSet('k', () => 1, { tags: ['x'.repeat(1025)] }),
      names('tags[0]'),
    );
    await assert.rejects(
      cache.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, options: { tags: [null as unknown as string] } },
      ]),
      names('entries[1].options.tags[0]'),
    );
    assert.deepEqual(await admin.keys('hopper:cache:badtags:*'), []);
  });

  describe('across processes', () => {
    let procs: CacheProcess[] = [];
    before(async () => {
      procs = await startCacheProcesses(2, { REDIS_URL: redis.url });
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.kill9()));
    });

    it("a tag or prefix invalidated in one process leaves the other process's memory tier within the bound", async () => {
      const [writer, reader] = procs as [CacheProcess, CacheProcess];
      await writer.call('set', { key: 'acct:42:balance', value: 100, tags: ['user:42'] });
      await writer.call('set', { key: 'acct:7:balance', value: 7, tags: ['user:7'] });
      for (const key of ['acct:42:balance', 'acct:7:balance']) await reader.call('get', { key });
      // Served from the reader's memory from now on.
      const hits0 = (await reader.call<{ memory: { hits: number } }>('stats', {})).memory.hits;
      assert.equal(await reader.call('get', { key: 'acct:42:balance' }), 100);
      assert.ok((await reader.call<{ memory: { hits: number } }>('stats', {})).memory.hits > hits0);

      const seen = reader.call<number>('watch', { key: 'acct:42:balance', from: '100' });
      await sleep(20);
      const t0 = Date.now();
      await writer.call('invalidateTag', { key: 'user:42' });
      assert.ok((await seen) - t0 < BOUND_MS, `${(await seen) - t0} ms`);
      assert.equal(await reader.call('get', { key: 'acct:42:balance' }), null);
      assert.equal(await reader.call('get', { key: 'acct:7:balance' }), 7);

      const gone = reader.call<number>('watch', { key: 'acct:7:balance', from: '7' });
      await sleep(20);
      const t1 = Date.now();
      await writer.call('invalidatePrefix', { key: 'acct:' });
      assert.ok((await gone) - t1 < BOUND_MS, `${(await gone) - t1} ms`);
      assert.equal(await reader.call('get', { key: 'acct:7:balance' }), null);
    });
  });
});
