import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Cache } from '../../src/cache/index.js';
import { MemoryTier } from '../../src/cache/memory.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();

const entry = (json: string) => ({
  json,
  freshUntil: Date.now() + 60_000,
  keepUntil: Date.now() + 60_000,
  version: '',
});

describe('memory tier bounds', () => {
  let redis: RedisProcess;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const m = new MemoryTier(3, 1_000_000);
    m.set('a', entry('1'));
    m.set('b', entry('2'));
    m.set('c', entry('3'));
    m.get('a', Date.now()); // a is now the most recent; b the least
    m.set('d', entry('4'));
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((k) => m.has(k)),
      [true, false, true, true],
    );
    assert.equal(m.size, 3);
  });

  it('evicts least recently used entries beyond maxBytes, and never holds more', () => {
    const value = 'x'.repeat(1_000);
    const m = new MemoryTier(1_000, 5_000);
    for (let i = 0; i < 10; i++) {
      m.set(`k${i}`, entry(value));
      assert.ok(m.bytes <= 5_000);
    }
    assert.equal(m.size, 4); // ~1,066 bytes each
    assert.deepEqual(
      ['k5', 'k6', 'k7', 'k8', 'k9'].map((k) => m.has(k)),
      [false, true, true, true, true],
    );
    m.set('huge', entry('y'.repeat(10_000)));
    assert.equal(m.has('huge'), false, 'a value larger than the tier is not kept');
    assert.equal(m.size, 4, 'and evicts nothing');
  });

  it('a Cache keeps at most maxEntries and maxBytes in memory; evicted keys come from Redis', async () => {
    const cache = new Cache({
      connection: redis.url,
      memory: { maxEntries: 50, maxBytes: 20_000 },
      logger: pino({ level: 'silent' }),
    });
    try {
      for (let i = 0; i < 100; i++) await cache.set(`n${i}`, i);
      assert.equal(cache.stats().memory.entries, 50);
      for (let i = 0; i < 30; i++) await cache.set(`big${i}`, 'z'.repeat(1_000));
      const s = cache.stats();
      assert.ok(s.memory.bytes <= 20_000, `${s.memory.bytes} bytes`);
      assert.ok(s.memory.entries < 30);
      assert.equal(await cache.get('n0'), 0);
      assert.equal(cache.stats().redis.hits, 1);
    } finally {
      await cache.close();
    }
  });
});
