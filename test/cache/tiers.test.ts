import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Cache, LoaderError } from '../../src/cache/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
const quiet = pino({ level: 'silent' });

describe('cache tiers', () => {
  let redis: RedisProcess;
  let admin: Redis;
  const caches: Cache[] = [];
  let n = 0;
  /** A cache on a namespace of its own, so tests cannot see each other's keys. */
  const make = (opts: ConstructorParameters<typeof Cache>[0] = {}, namespace = `t${++n}`) => {
    const c = new Cache({ connection: redis.url, namespace, logger: quiet, ...opts });
    caches.push(c);
    return c;
  };

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    admin.on('error', () => {});
  });
  const count = async (pattern: string) => {
    let total = 0;
    for await (const page of admin.scanStream({ match: pattern, count: 1000 }))
      total += (page as string[]).length;
    return total;
  };
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    admin.disconnect();
    await redis.stop();
  });

  it('get after set hits the memory tier', async () => {
    const c = make();
    await c.set('user:1', { name: 'Ada' });
    assert.deepEqual(await c.get('user:1'), { name: 'Ada' });
    const s = c.stats();
    assert.equal(s.memory.hits, 1);
    assert.equal(s.redis.hits + s.redis.misses, 0);
  });

  it('a second instance hits Redis first, then its memory', async () => {
    const a = make({}, 'shared-a');
    const b = make({}, 'shared-a');
    await a.set('k', [1, 2, 3]);
    assert.deepEqual(await b.get('k'), [1, 2, 3]);
    assert.deepEqual(b.stats().redis.hits, 1, 'the first read came from Redis');
    // a's set also sent an invalidation; on a loaded machine it can reach b while b's first
    // read is in flight, which then (rightly) does not keep that copy. Read until memory serves it.
    for (let i = 0; i < 100 && b.stats().memory.hits === 0; i++) {
      assert.deepEqual(await b.get('k'), [1, 2, 3]);
      if (b.stats().memory.hits === 0) await sleep(20);
    }
    const s = b.stats();
    assert.equal(s.memory.hits, 1, 'then memory served it');
    assert.ok(s.redis.hits <= 2, `${s.redis.hits} Redis hits: at most one more after the invalidation`);
  });

  it('an invalidation keeps a copy of the very value it announces, and drops any other', async () => {
    const ns = 'versions';
    const [a, b] = [make({}, ns), make({}, ns)];
    await Promise.all([a.ready(), b.ready()]);
    const channel = 'hopper:cache:bus';
    const sub = new Redis(redis.url);
    const sent: string[] = [];
    sub.on('message', (_ch: string, m: string) => sent.push(m));
    await sub.subscribe(channel);
    /** Reads `key` on b until its memory tier serves it; returns whether Redis served this read. */
    const fromRedis = async (key: string) => {
      const before = b.stats().redis.hits;
      await b.get(key);
      return b.stats().redis.hits > before;
    };
    const untilInMemory = async (key: string) => {
      for (let i = 0; i < 100 && (await fromRedis(key)); i++) await sleep(20);
    };
    // Messages reach b in order: once b has dropped `marker`, every message before it was applied.
    const flushBus = async () => {
      await admin.publish(channel, `0000000000000000|S|other.${++n}|${ns}|marker`);
      for (let i = 0; i < 100 && !(await fromRedis('marker')); i++) await sleep(20);
      await untilInMemory('marker');
    };
    try {
      await a.set('marker', 0);
      await a.set('k', 1);
      await untilInMemory('marker');
      await untilInMemory('k');
      const announce = sent.find((m) => m.endsWith(`|${ns}|k`));
      assert.ok(announce, 'a published the write of k');
      // The same write's message again (as when it comes after b read the value): b keeps k.
      await admin.publish(channel, announce);
      await flushBus();
      assert.equal(await fromRedis('k'), false, 'still served from memory');
      // A message for another write of k: b drops its copy.
      await admin.publish(channel, `0000000000000000|S|other.${++n}|${ns}|k`);
      await flushBus();
      assert.equal(await fromRedis('k'), true, 'dropped, read from Redis again');
      // So does a set announced without a version (as a version before versions sends it).
      await untilInMemory('k');
      await admin.publish(channel, `0000000000000000|s|${ns}|k`);
      await flushBus();
      assert.equal(await fromRedis('k'), true, 'dropped by the unversioned message');
    } finally {
      sub.disconnect();
    }
  });

  it('reads values written before versions (no version field), pipes in the JSON included', async () => {
    const c = make();
    await admin.set(`hopper:cache:${c.namespace}:v:{k:old}`, '0|j|{"a":"x|5"}', 'PX', 60_000);
    assert.deepEqual(await c.get('old'), { a: 'x|5' });
  });

  it('a delete or set during a slow load is not overwritten by the load', async () => {
    const a = make({}, 'race');
    const b = make({}, 'race');
    const slow = (value: string) => async () => {
      await sleep(150);
      return value;
    };
    const loading = a.getOrSet('deleted', slow('old'));
    await sleep(30);
    await b.delete('deleted');
    assert.equal(await loading, 'old'); // the caller still gets what it loaded
    assert.equal(await a.get('deleted'), undefined);
    assert.equal(await b.get('deleted'), undefined);

    const loading2 = a.getOrSet('replaced', slow('old'));
    await sleep(30);
    await b.set('replaced', 'new');
    assert.equal(await loading2, 'old');
    assert.equal(await a.get('replaced'), 'new');
    assert.equal(await b.get('replaced'), 'new');
  });

  it('values expire after their ttl in both tiers', async () => {
    const c = make();
    await c.set('short', 'v', { ttl: 150 });
    assert.equal(await c.get('short'), 'v');
    await sleep(250);
    assert.equal(await c.get('short'), undefined);
    assert.equal(await admin.exists(`hopper:cache:${c.namespace}:v:{k:short}`), 0);
  });

  it('grace serves the last value when the loader throws, within grace only', async () => {
    const c = make();
    const key = 'graced';
    assert.equal(await c.getOrSet(key, () => 'v1', { ttl: 100, grace: 400 }), 'v1');
    await sleep(150);
    const failing = () => {
      throw new Error('upstream down');
    };
    assert.equal(await c.getOrSet(key, failing, { ttl: 100, grace: 400 }), 'v1');
    assert.equal(c.stats().served.graced, 1);
    // Redis still holds v1, not a corrupted entry; past grace the error surfaces.
    await sleep(450);
    await assert.rejects(c.getOrSet(key, failing, { ttl: 100, grace: 400 }), (err: Error) => {
      assert.ok(err instanceof LoaderError);
      assert.match(err.message, /upstream down/);
      return true;
    });
    assert.equal(await admin.exists(`hopper:cache:${c.namespace}:v:{k:${key}}`), 0);
  });

  it('stale-while-revalidate returns the stale value at once, then the refreshed one', async () => {
    const c = make();
    let version = 0;
    const loader = async () => {
      await sleep(50);
      return ++version;
    };
    const opts = { ttl: 100, staleWhileRevalidate: 2_000 };
    assert.equal(await c.getOrSet('swr', loader, opts), 1);
    await sleep(150);
    const t0 = Date.now();
    assert.equal(await c.getOrSet('swr', loader, opts), 1, 'stale value served');
    assert.ok(Date.now() - t0 < 40, 'without waiting for the loader');
    let seen: number | undefined;
    for (let i = 0; i < 100 && seen !== 2; i++) {
      await sleep(10);
      seen = await c.getOrSet('swr', loader, opts);
    }
    assert.equal(seen, 2);
    assert.equal(version, 2, 'one background refresh');
    // A second instance with a cold memory tier also gets the stale value from Redis at once.
    const other = make({}, c.namespace);
    await sleep(150);
    assert.equal(await other.getOrSet('swr', loader, opts), 2);
  });

  it('compresses large values: they round-trip and are smaller in Redis', async () => {
    const c = make({ memory: false });
    const big = { rows: Array.from({ length: 2_000 }, (_, i) => ({ id: i, name: `row number ${i}` })) };
    const json = JSON.stringify(big);
    assert.ok(json.length > 8 * 1024);
    await c.set('big', big);
    assert.deepEqual(await c.get('big'), big);
    const stored = await admin.strlen(`hopper:cache:${c.namespace}:v:{k:big}`);
    assert.ok(stored < json.length / 3, `stored ${stored} bytes for ${json.length} bytes of JSON`);
    await c.set('small', { a: 1 });
    assert.match(
      (await admin.get(`hopper:cache:${c.namespace}:v:{k:small}`))!,
      /^0\|J\|[0-9a-f]{16}\.[0-9a-z]+\|\{"a":1\}$/,
    );
  });

  it('getMany reads memory, then all misses in one Redis call', async () => {
    const a = make({}, 'many');
    const b = make({}, 'many');
    await a.set('x', 1);
    await a.set('y', 2);
    await sleep(100); // let a's invalidations reach b first, or they would evict what b reads next
    await b.get('x');
    assert.deepEqual(await b.getMany(['x', 'y', 'z']), [1, 2, undefined]);
    const s = b.stats();
    assert.equal(s.memory.hits, 1);
    assert.equal(s.redis.hits, 2); // x on the first get, y in getMany
    assert.equal(s.redis.misses, 1);
  });

  it('100 concurrent getOrSet in one process call the loader once', async () => {
    const c = make();
    let calls = 0;
    const values = await Promise.all(
      Array.from({ length: 100 }, () =>
        c.getOrSet('hot', async () => {
          calls++;
          await sleep(50);
          return { v: 42 };
        }),
      ),
    );
    assert.equal(calls, 1);
    assert.ok(values.every((v) => v.v === 42));
    assert.equal(c.stats().loader.calls, 1);
  });

  it('clear(namespace) removes only that namespace, by SCAN', async () => {
    const a = make({}, 'clear-a');
    const b = make({}, 'clear-b');
    const lookalike = make({}, 'clear-a.x');
    for (let i = 0; i < 50; i++) {
      await a.set(`k${i}`, i);
      await b.set(`k${i}`, i);
      await lookalike.set(`k${i}`, i);
    }
    await admin.config('RESETSTAT');
    assert.equal(await a.clear(), 50);
    assert.equal(await a.get('k1'), undefined);
    assert.equal(await b.get('k1'), 1);
    assert.equal(await lookalike.get('k1'), 1);
    const info = await admin.info('commandstats');
    assert.match(info, /cmdstat_scan:/);
    assert.doesNotMatch(info, /cmdstat_keys:/);
    assert.equal(await count('hopper:cache:clear-a:*'), 0);
    assert.equal(await count('hopper:cache:clear-b:*'), 50);
    // Another instance clears a namespace: its instances drop their memory tier too.
    await b.clear('clear-a.x');
    assert.equal(await count('hopper:cache:clear-a.x:*'), 0);
    for (let i = 0; i < 50 && (await lookalike.get('k1')) !== undefined; i++) await sleep(10);
    assert.equal(await lookalike.get('k1'), undefined);
  });

  it('keeps serving from memory and the loader while Redis is down', async () => {
    const c = make();
    await c.set('up', 'cached');
    await redis.kill9();
    try {
      await sleep(100);
      assert.equal(await c.get('up'), 'cached');
      assert.equal(await c.getOrSet('fresh', () => 'loaded'), 'loaded');
      await assert.rejects(c.set('x', 1));
    } finally {
      await redis.restart();
    }
  });

  it('invalidation works again after a Redis restart, without any user action', async () => {
    const a = make({}, 'restart');
    const b = make({}, 'restart');
    await a.ready();
    await b.ready();
    await a.set('k', 'v1');
    await sleep(50);
    assert.equal(await b.get('k'), 'v1'); // now in b's memory tier
    await redis.kill9();
    await sleep(200);
    await redis.restart();
    // The restarted server is empty (no AOF here): write again through a once the bus is back.
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await a.set('k', 'v2');
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(50);
      }
    }
    // b must drop its memory copy (by the resubscribed bus, or by emptying memory on reconnect).
    const until = Date.now() + 2000;
    let seen = await b.get('k');
    while (seen !== 'v2' && Date.now() < until) {
      await sleep(25);
      seen = await b.get('k');
    }
    assert.equal(seen, 'v2');
    await a.set('k', 'v3');
    const until2 = Date.now() + 1000;
    seen = await b.get('k');
    while (seen !== 'v3' && Date.now() < until2) {
      await sleep(10);
      seen = await b.get('k');
    }
    assert.equal(seen, 'v3', 'invalidation after the restart reached b through the bus');
  });
});
