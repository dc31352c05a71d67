import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Priority, Queue, ValidationError, Worker } from '../../src/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
let redis: RedisProcess;
let raw: Redis;
let n = 0;
const queues: Queue[] = [];
function queue(opts: ConstructorParameters<typeof Queue>[1] = {}): Queue {
  const q = new Queue(`add-${++n}`, { connection: redis.url, ...opts });
  queues.push(q);
  return q;
}

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
after(async () => {
  await Promise.all(queues.map((q) => q.close()));
  raw.disconnect();
  await redis.stop();
});

/** Runs a worker until `count` jobs finished, returning the names in the order they started. */
async function runAll(q: Queue, count: number): Promise<string[]> {
  const order: string[] = [];
  const w = new Worker(q.name, async (job) => void order.push(job.name), {
    connection: redis.url,
    concurrency: 1,
  });
  while (order.length < count) await new Promise((r) => setTimeout(r, 20));
  await w.close();
  return order;
}

describe('add', () => {
  test('five-level priority order: higher first, FIFO within a level', async () => {
    const q = queue();
    const levels = Object.entries(Priority).reverse(); // lowest first, to prove ordering is not insertion order
    for (const [name, priority] of levels) {
      await q.add(`${name}-1`, {}, { priority });
      await q.add(`${name}-2`, {}, { priority });
    }
    await q.add('plain', {});
    const order = await runAll(q, 11);
    assert.deepEqual(order, [
      'REBALANCE_NEEDED-1',
      'REBALANCE_NEEDED-2',
      'OPEN_POSITION_DETECTED-1',
      'OPEN_POSITION_DETECTED-2',
      'OPEN_ORDER_DETECTED-1',
      'OPEN_ORDER_DETECTED-2',
      'NEW_BALANCE_UPDATE-1',
      'NEW_BALANCE_UPDATE-2',
      'BALANCE_CHECK_REQUIRED-1',
      'BALANCE_CHECK_REQUIRED-2',
      'plain',
    ]);
  });

  test('concurrent adds coalesce into few round trips and keep their ids', async () => {
    const q = queue();
    let calls = 0;
    const monitor = await raw.monitor();
    monitor.on('monitor', (_t: string, args: string[]) => {
      if (args[0]?.toLowerCase().startsWith('eval') && args.includes(q.keys.jobs)) calls++;
    });
    const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => q.add('j', { i })));
    await new Promise((r) => setTimeout(r, 50));
    monitor.disconnect();
    assert.equal(new Set(ids).size, 300);
    assert.ok(calls >= 1 && calls <= 2, `expected 300 adds in 1-2 script calls, saw ${calls}`);
    const job = await q.getJob(ids[42]!);
    assert.deepEqual(job?.data, { i: 42 });
    assert.equal(job?.state, 'waiting');
  });

  test('jobId is idempotent: the same id returns the first job, never a copy', async () => {
    const q = queue();
    const a = await q.add('x', { v: 1 }, { jobId: 'order-7' });
    const [b, c] = await Promise.all([
      q.add('x', { v: 2 }, { jobId: 'order-7' }),
      q.add('x', { v: 3 }, { jobId: 'order-7' }),
    ]);
    assert.equal(a, 'order-7');
    assert.equal(b, 'order-7');
    assert.equal(c, 'order-7');
    assert.equal((await q.getCounts()).waiting, 1);
    assert.deepEqual((await q.getJob('order-7'))?.data, { v: 1 });
  });

  test('dedup drops adds within ttl, reporting the first id, and allows them after', async () => {
    const q = queue();
    const first = await q.add('alert', { m: 1 }, { dedup: { key: 'strategy:abc:match-1', ttl: 300 } });
    const second = await q.add('alert', { m: 2 }, { dedup: { key: 'strategy:abc:match-1', ttl: 300 } });
    const other = await q.add('alert', { m: 3 }, { dedup: { key: 'strategy:abc:match-2', ttl: 300 } });
    assert.equal(second, first);
    assert.notEqual(other, first);
    assert.equal((await q.getCounts()).waiting, 2);
    await new Promise((r) => setTimeout(r, 350));
    const third = await q.add('alert', { m: 4 }, { dedup: { key: 'strategy:abc:match-1', ttl: 300 } });
    assert.notEqual(third, first);
    assert.equal((await q.getCounts()).waiting, 3);
  });

  test('delayed jobs wait, then run close to their due time', async () => {
    const q = queue();
    const started = Date.now();
    const id = await q.add('later', {}, { delay: 400 });
    assert.equal((await q.getJob(id))?.state, 'delayed');
    let ranAt = 0;
    const w = new Worker(
      q.name,
      async () => {
        ranAt = Date.now();
      },
      { connection: redis.url },
    );
    while (!ranAt) await new Promise((r) => setTimeout(r, 10));
    await w.close();
    const lateness = ranAt - started - 400;
    assert.ok(lateness >= -5, `ran ${-lateness} ms early`);
    assert.ok(lateness < 250, `ran ${lateness} ms late`); // typically under 10 ms; room for a loaded machine
  });

  test('addBulk adds many in order and returns their ids', async () => {
    const q = queue();
    const ids = await q.addBulk(Array.from({ length: 2500 }, (_, i) => ({ name: 'b', data: { i } })));
    assert.equal(ids.length, 2500);
    assert.equal((await q.getCounts()).waiting, 2500);
    const firstThree = await q.getJobs('waiting', 0, 2);
    assert.deepEqual(
      firstThree.map((j) => j.data),
      [{ i: 0 }, { i: 1 }, { i: 2 }],
    );
  });
});

describe('bad input is rejected with the field named, and nothing is written', () => {
  const cases: [string, (q: Queue) => Promise<unknown>, RegExp][] = [
    ['negative delay', (q) => q.add('x', {}, { delay: -1 }), /^opts\.delay/],
    ['priority out of range', (q) => q.add('x', {}, { priority: 1001 }), /^opts\.priority/],
    ['fractional priority', (q) => q.add('x', {}, { priority: 1.5 }), /^opts\.priority/],
    ['unknown option', (q) => q.add('x', {}, { colour: 'red' } as never), /^opts\.colour/],
    ['empty name', (q) => q.add('', {}), /^name/],
    [
      'circular data',
      (q) => {
        const d: Record<string, unknown> = {};
        d.self = d;
        return q.add('x', d);
      },
      /^data: is not JSON-serialisable/,
    ],
    ['BigInt data', (q) => q.add('x', { n: 1n }), /^data: is not JSON-serialisable/],
    ['function data', (q) => q.add('x', (() => 1) as never), /^data: is not JSON-serialisable/],
    [
      'payload over the limit',
      (q) => q.add('x', 'y'.repeat(600 * 1024)),
      /^data: is \d+ bytes serialised, over the limit of 524288/,
    ],
    ['all-digit jobId', (q) => q.add('x', {}, { jobId: '123' }), /^opts\.jobId/],
    ['dedup without ttl', (q) => q.add('x', {}, { dedup: { key: 'k' } } as never), /^opts\.dedup\.ttl/],
    [
      'bad backoff type',
      (q) => q.add('x', {}, { backoff: { type: 'linear', delay: 1 } } as never),
      /^opts\.backoff\.type/,
    ],
    ['zero attempts', (q) => q.add('x', {}, { attempts: 0 }), /^opts\.attempts/],
    ['bad removeOnComplete', (q) => q.add('x', {}, { removeOnComplete: -3 }), /^opts\.removeOnComplete/],
    [
      'one bad job in a bulk',
      (q) =>
        q.addBulk([
          { name: 'ok', data: {} },
          { name: 'bad', data: {}, opts: { delay: -5 } },
        ]),
      /^jobs\[1\]\.opts\.delay/,
    ],
  ];
  for (const [what, call, message] of cases) {
    test(what, async () => {
      const q = queue();
      await assert.rejects(call(q), (err: unknown) => {
        assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
        assert.match(err.message, message);
        return true;
      });
      assert.deepEqual(await q.getCounts(), {
        waiting: 0,
        delayed: 0,
        active: 0,
        reserved: 0,
        completed: 0,
        failed: 0,
        waitingChildren: 0,
      });
      assert.equal(await raw.hlen(q.keys.jobs), 0);
    });
  }

  test('an empty queue name or one with braces is refused', () => {
    assert.throws(() => new Queue('', { connection: redis.url }), /^ValidationError: name/);
    assert.throws(() => new Queue('a{b}', { connection: redis.url }), /name: must not contain/);
  });

  test('the payload limit is configurable', async () => {
    const q = queue({ maxPayloadBytes: 100 });
    await assert.rejects(q.add('x', 'z'.repeat(200)), /over the limit of 100/);
    assert.ok(await q.add('x', 'small'));
  });
});
