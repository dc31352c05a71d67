import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { Redis } from 'ioredis';
import { Deduper, ValidationError } from '../../src/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
let redis: RedisProcess;
const dedupers: Deduper[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(dedupers.map((d) => d.close()));
  await redis.stop();
});

function deduper(): Deduper {
  const d = new Deduper({ connection: redis.url });
  dedupers.push(d);
  return d;
}

describe('Deduper', () => {
  test('of 200 concurrent claims over 4 connections exactly one wins', async () => {
    const ds = [deduper(), deduper(), deduper(), deduper()];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ds[i % 4]!.claim('alert:strategy-9:BTC', 10_000)),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  test('a claim lasts ttl ms; release frees it early', async () => {
    const d = deduper();
    assert.equal(await d.claim('k1', 150), true);
    assert.equal(await d.claim('k1', 150), false);
    await sleep(200);
    assert.equal(await d.claim('k1', 150), true, 'free again after ttl');
    await d.release('k1');
    assert.equal(await d.claim('k1', 150), true, 'free again after release');
  });

  test("seed 003's two layers: the database's unique constraint still holds when Redis forgets", async () => {
    const d = deduper();
    const db = new PGlite();
    await db.exec('CREATE TABLE alerts (key text PRIMARY KEY, sent_at timestamptz NOT NULL DEFAULT now())');
    const alert = async (key: string): Promise<'sent' | 'duplicate (redis)' | 'duplicate (database)'> => {
      if (!(await d.claim(key, 60_000))) return 'duplicate (redis)';
      const r = await db.query(
        'INSERT INTO alerts (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING key',
        [key],
      );
      return r.rows.length === 1 ? 'sent' : 'duplicate (database)';
    };
    assert.equal(await alert('match-1'), 'sent');
    assert.equal(await alert('match-1'), 'duplicate (redis)');
    const raw = new Redis(redis.url);
    await raw.flushall(); // Redis lost its keys (a restart without persistence)
    raw.disconnect();
    assert.equal(await alert('match-1'), 'duplicate (database)');
    assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts')).rows[0]!.n, 1);
    await db.close();
  });

  test('bad keys and ttls are typed errors naming the field', async () => {
    const d = deduper();
    const cases: [() => Promise<unknown>, string][] = [
      [() => d.claim('', 100), 'key'],
      [() => d.claim('x'.repeat(513), 100), 'key'],
      [() => d.claim('k', 0), 'ttl'],
      [() => d.claim('k', -5), 'ttl'],
      [() => d.claim('k', 1.5), 'ttl'],
    ];
    for (const [call, field] of cases)
      await assert.rejects(call, (e: unknown) => e instanceof ValidationError && e.field === field, field);
  });
});
