import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Cache } from '../../src/cache/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

// Cache warming (seed 001): setMany writes both tiers, other instances read the values,
// and one bad entry refuses the whole call with nothing written.
requireRedisServer();
const quiet = pino({ level: 'silent' });
let redis: RedisProcess;
let admin: Redis;
const caches: Cache[] = [];
const make = (namespace: string) => {
  const c = new Cache({ connection: redis.url, namespace, logger: quiet, ttl: 60_000 });
  caches.push(c);
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

test('setMany writes every entry, readable from another instance', async () => {
  const writer = make('warm');
  const reader = make('warm');
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
  await writer.setMany(
    symbols.map((s, i) => ({ key: `ticker:${s}`, value: { s, price: i + 1 }, options: { ttl: 2_000 } })),
  );
  assert.deepEqual(await reader.getMany(symbols.map((s) => `ticker:${s}`)), [
    { s: 'BTCUSDT', price: 1 },
    { s: 'ETHUSDT', price: 2 },
    { s: 'SOLUSDT', price: 3 },
  ]);
  const ttl = await admin.pttl((await admin.keys('*warm*ticker:BTCUSDT*'))[0]!);
  assert.ok(ttl > 0 && ttl <= 2_000, String(ttl));
});

test('one bad entry refuses the call naming it, and nothing is written', async () => {
  const cache = make('bad');
  const cases: [unknown, string][] = [
    [
      [
        { key: 'a', value: 1 },
        { key: '', value: 2 },
      ],
      'entries[1].key',
    ],
    [
      [
        { key: 'a', value: 1 },
        { key: 'b', value: () => 1 },
      ],
      'entries[1].value',
    ],
    [[{ key: 'a', value: 1, options: { ttl: -5 } }], 'entries[0].options.ttl'],
    ['nope', 'entries'],
  ];
  for (const [entries, field] of cases)
    await assert.rejects(
      cache.setMany(entries as never),
      (err: unknown) => err instanceof ValidationError && err.field === field,
      field,
    );
  assert.deepEqual(await admin.keys('*bad*'), []);
});
