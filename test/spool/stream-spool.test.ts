import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { EventStream } from '../../src/index.js';
import { SpoolFullError } from '../../src/spool/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';

requireRedisServer();

let redis: RedisProcess;
let tmp: string;

before(async () => {
  redis = await startRedis({ aof: true, args: ['--appendfsync', 'always'] });
  tmp = mkdtempSync(join(tmpdir(), 'hopper-stream-spool-'));
});

after(async () => {
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Every event in the stream, in order (fields d, or e for events stored together). */
async function events(s: EventStream): Promise<{ n: number }[]> {
  const raw = new Redis(redis.url);
  const entries = await raw.xrange(s.keys.stream, '-', '+');
  raw.disconnect();
  return entries.flatMap(([, fields]) => {
    const out: { n: number }[] = [];
    for (let i = 0; i < fields.length; i += 2) out.push(JSON.parse(fields[i + 1]!));
    return out;
  });
}

describe('event stream spool', () => {
  test('appends made while Redis is down for 2 s are stored once, in order, when it returns', async () => {
    const s = new EventStream(uniqueName('track'), {
      connection: redis.url,
      logger: quiet,
      spool: { dir: join(tmp, uniqueName('s')), timeout: 200 },
    });
    let n = 0;
    let stop = false;
    const produce = (async () => {
      while (!stop) {
        const one = s.append({ n: n++ });
        const many = s.appendBatch([{ n: n++ }, { n: n++ }]);
        const ids = [await one, ...(await many)];
        assert.equal(ids.length, 3);
        await sleep(5);
      }
    })();
    await sleep(200);
    await redis.kill9();
    await sleep(2000);
    assert.ok(s.spoolStats()!.depth > 0, 'appends went to the spool');
    await redis.restart();
    await sleep(500);
    stop = true;
    await produce;
    await waitFor(
      'spool drained',
      () => s.spoolStats()!.depth === 0 && s.spoolStats()!.state === 'direct',
      15_000,
    );
    const stored = await events(s);
    assert.deepEqual(
      stored.map((e) => e.n),
      Array.from({ length: n }, (_, i) => i),
    );
    await s.close();
  });

  test('a full spool refuses; bad options name the field', async () => {
    const s = new EventStream(uniqueName('full'), {
      connection: redis.url,
      logger: quiet,
      spool: { dir: join(tmp, uniqueName('s')), timeout: 200, maxBytes: 64 * 1024 },
    });
    await s.append({ n: 0 });
    await redis.kill9();
    const big = 'y'.repeat(2000);
    await assert.rejects(async () => {
      for (let i = 0; i < 100; i++) await s.append({ big });
    }, SpoolFullError);
    await redis.restart();
    await waitFor('spool drained', () => s.spoolStats()!.depth === 0, 15_000);
    await s.close();
    assert.throws(
      () => new EventStream('x', { connection: redis.url, spool: { dir: tmp, fsync: 'no' as never } }),
      (err: unknown) => err instanceof ValidationError && err.field === 'spool.fsync',
    );
  });
});
