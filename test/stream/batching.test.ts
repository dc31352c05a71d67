import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { EventStream, type StreamEntry, StreamProcessor } from '../../src/stream/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, unique, waitFor } from './helpers.js';

requireRedisServer();
let redis: RedisProcess;
let raw: Redis;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
after(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  raw.disconnect();
  await redis.stop();
});

function setup(opts: Partial<ConstructorParameters<typeof StreamProcessor>[2]> = {}) {
  const stream = new EventStream(unique('batch'), { connection: redis.url, logger: quiet });
  const calls: { at: number; ids: string[] }[] = [];
  const sink = async (batch: StreamEntry[]) => {
    calls.push({ at: Date.now(), ids: batch.map((e) => e.id) });
  };
  const make = (more: Partial<ConstructorParameters<typeof StreamProcessor>[2]> = {}) => {
    const p = new StreamProcessor(stream, 'g', {
      connection: redis.url,
      sink,
      logger: quiet,
      ...opts,
      ...more,
    });
    closers.push(() => p.close());
    return p;
  };
  closers.push(() => stream.close());
  return { stream, calls, make };
}

describe('StreamProcessor batching', () => {
  test('a full batch goes to the sink at once, long before flushInterval', async () => {
    const { stream, calls, make } = setup();
    const p = make({ consumers: 1, batchSize: 50, flushInterval: 60_000 });
    await p.ready();
    const started = Date.now();
    const ids = await stream.appendMany(Array.from({ length: 50 }, (_, i) => ({ i })));
    await waitFor('the batch', () => calls.length === 1, 10_000);
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(calls[0]!.ids, ids);
    await waitFor('the ack', async () => (await stream.info()).groups[0]?.pending === 0);
  });

  test('appendBatch entries: batchSize events per sink call however many a read brings, every event once, in order', async () => {
    const { stream, calls, make } = setup();
    const ids: string[] = [];
    // Appended before the processor starts: its first read finds them all waiting.
    for (let r = 0; r < 10; r++)
      ids.push(...(await stream.appendBatch(Array.from({ length: 20 }, (_, i) => ({ r, i })))));
    const p = make({ consumers: 1, batchSize: 25, flushInterval: 60_000 });
    await p.ready();
    await waitFor('every event', () => calls.flatMap((c) => c.ids).length >= 200, 10_000);
    await waitFor('the acks', async () => (await stream.info()).groups[0]?.pending === 0);
    assert.ok(
      calls.every((c) => c.ids.length === 25),
      `sink calls of ${calls.map((c) => c.ids.length).join(', ')} events`,
    );
    assert.deepEqual(
      calls.flatMap((c) => c.ids),
      ids,
    );
  });

  test('fewer entries than batchSize go after about flushInterval', async () => {
    const { stream, calls, make } = setup();
    const p = make({ consumers: 1, batchSize: 100, flushInterval: 400 });
    const batches: number[] = [];
    p.on('batch', (n: number) => batches.push(n));
    await p.ready();
    const ids = await stream.appendMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
    const appended = Date.now();
    await waitFor('the batch', () => calls.length === 1, 10_000);
    const waited = calls[0]!.at - appended;
    // Not before the interval; the upper bound is loose because the machine is shared.
    assert.ok(waited >= 350, `flushed after ${waited} ms, before the 400 ms interval`);
    assert.ok(waited < 5000, `flushed after ${waited} ms`);
    assert.deepEqual(calls[0]!.ids, ids);
    // 'batch' fires once the batch is acknowledged, a round trip after the sink returned.
    await waitFor('the batch event', () => batches.length === 1, 5_000);
    assert.deepEqual(batches, [3]);
  });

  test('entries of a consumer that stopped are claimed after claimIdle, then the name is removed', async () => {
    const { stream, calls, make } = setup();
    const key = stream.keys.stream;
    const ids = await stream.appendMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    // A consumer that read the entries and died.
    await raw.xgroup('CREATE', key, 'g', '0', 'MKSTREAM');
    await raw.xreadgroup('GROUP', 'g', 'ghost', 'COUNT', 10, 'STREAMS', key, '>');
    const p = make({ consumers: 2, batchSize: 100, flushInterval: 50, claimIdle: 300, consumerTimeout: 200 });
    await waitFor('the claimed batch', () => calls.flatMap((c) => c.ids).length === 10, 10_000);
    assert.deepEqual(calls.flatMap((c) => c.ids).sort(), [...ids].sort());
    await waitFor(
      'ghost removed from the group',
      async () => {
        const consumers = (await raw.xinfo('CONSUMERS', key, 'g')) as unknown[][];
        return !consumers.some((c) => c[1] === 'ghost');
      },
      10_000,
    );
    assert.equal((await stream.info()).groups[0]!.pending, 0);
    await p.close();
    const consumers = (await raw.xinfo('CONSUMERS', key, 'g')) as unknown[][];
    assert.equal(consumers.length, 0, 'a clean close leaves no consumer names');
  });

  test('a slow sink is not mistaken for a dead consumer: nothing is claimed twice', async () => {
    const { stream, make } = setup();
    const seen: string[] = [];
    const p = make({
      consumers: 2,
      batchSize: 5,
      flushInterval: 20,
      claimIdle: 150,
      sink: async (batch) => {
        seen.push(...batch.map((e) => e.id));
        await new Promise((r) => setTimeout(r, 600)); // four times claimIdle
      },
    });
    await p.ready();
    const ids = await stream.appendMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    await waitFor(
      'all committed',
      async () => (await stream.info()).groups[0]?.pending === 0 && seen.length >= 10,
    );
    assert.deepEqual([...seen].sort(), [...ids].sort(), 'each entry went to the sink once');
  });

  test('close() flushes the batch in hand at once and acknowledges it', async () => {
    const { stream, calls, make } = setup();
    const p = make({ consumers: 3, batchSize: 1000, flushInterval: 60_000 });
    await p.ready();
    const ids = await stream.appendMany(Array.from({ length: 30 }, (_, i) => ({ i })));
    await waitFor('entries read', async () => (await stream.info()).groups[0]?.pending === 30);
    assert.equal(calls.length, 0);
    const started = Date.now();
    await p.close();
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(calls.flatMap((c) => c.ids).sort(), [...ids].sort());
    const info = await stream.info();
    assert.equal(info.groups[0]!.pending, 0);
    assert.equal(info.groups[0]!.consumers, 0);
  });
});
