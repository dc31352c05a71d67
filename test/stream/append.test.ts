import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { ValidationError } from '../../src/index.js';
import { EventStream, StreamProcessor } from '../../src/stream/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, unique } from './helpers.js';

requireRedisServer();
let redis: RedisProcess;
let raw: Redis;
const streams: EventStream[] = [];
function stream(opts: ConstructorParameters<typeof EventStream>[1] = {}): EventStream {
  const s = new EventStream(unique('append'), { connection: redis.url, logger: quiet, ...opts });
  streams.push(s);
  return s;
}

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
after(async () => {
  await Promise.all(streams.map((s) => s.close()));
  raw.disconnect();
  await redis.stop();
});

/** Script calls Redis executed (EVALSHA answered NOSCRIPT counts too: it is a round trip). */
async function scriptCalls(): Promise<number> {
  const info = await raw.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(
    /^cmdstat_(evalsha|eval):calls=(\d+)(?:.*?rejected_calls=(\d+))?(?:.*?failed_calls=(\d+))?/gm,
  ))
    n += Number(m[2]) + Number(m[3] ?? 0) + Number(m[4] ?? 0);
  return n;
}

describe('EventStream', () => {
  test('300 concurrent appends coalesce into at most 2 round trips and get their ids in order', async () => {
    const s = stream();
    await s.length(); // connected, so the count below is only the appends
    await raw.config('RESETSTAT');
    const before = await scriptCalls();
    const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => s.append({ i })));
    const calls = (await scriptCalls()) - before;
    assert.ok(calls >= 1 && calls <= 2, `expected 1-2 script calls, got ${calls}`);
    assert.equal(new Set(ids).size, 300);
    const entries = await raw.xrange(s.keys.stream, '-', '+');
    assert.deepEqual(
      entries.map(([id]) => id),
      ids,
    );
    assert.deepEqual(
      entries.map(([, f]) => JSON.parse(f[1]!).i),
      Array.from({ length: 300 }, (_, i) => i),
    );
    assert.equal(await s.length(), 300);
  });

  test('appendMany keeps order and mixes with single appends in one call', async () => {
    const s = stream();
    const [a, many, b] = await Promise.all([s.append('a'), s.appendMany([1, 2, 3]), s.append({ b: true })]);
    const entries = await raw.xrange(s.keys.stream, '-', '+');
    assert.deepEqual(
      entries.map(([id]) => id),
      [a, ...many, b],
    );
    assert.deepEqual(await s.appendMany([]), []);
  });

  test('appendJson stores JSON text as is, in order, coalesced with other appends', async () => {
    const s = stream();
    const [a, many] = await Promise.all([s.append({ a: 1 }), s.appendJson(['{"x":1}', '[2]', '"three"'])]);
    const entries = await raw.xrange(s.keys.stream, '-', '+');
    assert.deepEqual(
      entries.map(([id, fields]) => [id, fields[1]]),
      [
        [a, '{"a":1}'],
        [many[0], '{"x":1}'],
        [many[1], '[2]'],
        [many[2], '"three"'],
      ],
    );
    assert.deepEqual(await s.appendJson([]), []);
  });

  test('appendBatch stores the events in one entry (e fields, in order); ids are <entryId>:<index>', async () => {
    const s = stream();
    const [a, batch, big] = await Promise.all([
      s.append('a'),
      s.appendBatch([{ x: 1 }, [2], 'three']),
      s.appendBatch(Array.from({ length: 1001 }, (_, i) => i)),
    ]);
    const entries = await raw.xrange(s.keys.stream, '-', '+');
    assert.equal(entries.length, 4, 'a, the batch, and 1001 events as 1000 + 1');
    const [, one, second, third] = entries as [string, string[]][];
    assert.equal(entries[0]![0], a);
    assert.deepEqual(one![1], ['e', '{"x":1}', 'e', '[2]', 'e', '"three"']);
    assert.deepEqual(batch, [`${one![0]}:0`, `${one![0]}:1`, `${one![0]}:2`]);
    assert.equal(second![1].length, 2000);
    assert.equal(third![1][1], '1000');
    assert.equal(big.length, 1001);
    assert.equal(big[999], `${second![0]}:999`);
    assert.equal(big[1000], `${third![0]}:0`);
    assert.deepEqual(await s.appendBatch([]), []);
    await assert.rejects(s.appendBatch([{ ok: 1 }, { big: 1n }]), { field: 'events[1]' } as object);
    assert.equal(await s.length(), 4, 'a rejected batch writes nothing');
  });

  test('bad input throws a ValidationError naming the field and writes nothing', async () => {
    assert.throws(() => new EventStream('', { connection: redis.url }), {
      name: 'ValidationError',
      field: 'name',
    } as object);
    assert.throws(() => new EventStream('a{b}', { connection: redis.url }), ValidationError);
    const s = stream();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: [unknown, string][] = [
      [circular, 'event'],
      [10n, 'event'],
      [undefined, 'event'],
      [() => 1, 'event'],
      [{ x: Number.NaN }, 'event'],
    ];
    for (const [event, field] of bad) {
      await assert.rejects(s.append(event), (err: ValidationError) => {
        assert.ok(err instanceof ValidationError, String(err));
        assert.equal(err.field, field);
        return true;
      });
    }
    await assert.rejects(s.appendMany([{ ok: 1 }, { ok: 2 }, { big: 1n }]), { field: 'events[2]' } as object);
    await assert.rejects(s.appendMany('nope' as unknown as unknown[]), { field: 'events' } as object);
    await assert.rejects(s.appendJson(['{}', 3 as unknown as string]), { field: 'json[1]' } as object);
    await assert.rejects(s.appendJson(['']), { field: 'json[0]' } as object);
    assert.equal(await raw.exists(s.keys.stream), 0, 'nothing was written');

    const sink = async () => {};
    const opts = { connection: redis.url, sink, logger: quiet };
    const cases: [() => unknown, string][] = [
      [() => new StreamProcessor('', 'g', opts), 'stream'],
      [() => new StreamProcessor(s, '', opts), 'group'],
      [() => new StreamProcessor(s, 'g', { ...opts, batchSize: 0 }), 'batchSize'],
      [() => new StreamProcessor(s, 'g', { ...opts, batchSize: -5 }), 'batchSize'],
      [() => new StreamProcessor(s, 'g', { ...opts, consumers: 0 }), 'consumers'],
      [() => new StreamProcessor(s, 'g', { ...opts, flushInterval: 1.5 }), 'flushInterval'],
      [() => new StreamProcessor(s, 'g', { ...opts, maxDeliveries: 0 }), 'maxDeliveries'],
      [() => new StreamProcessor(s, 'g', { ...opts, sink: undefined as never }), 'sink'],
      [() => new EventStream('x', { connection: redis.url, maxLen: 0 }), 'maxLen'],
    ];
    for (const [make, field] of cases) assert.throws(make, { name: 'ValidationError', field } as object);
    assert.equal(await raw.exists(s.keys.stream), 0, 'no group or stream was created');
  });

  test('trimming never removes an entry a group has pending or not yet read', async () => {
    const s = stream({ maxLen: 5 });
    const ids = await s.appendMany(Array.from({ length: 20 }, (_, i) => ({ i })));
    const key = s.keys.stream;
    // Group g1 read 10 and acknowledged the first 4: entries 4..9 pending, 10..19 unread.
    await raw.xgroup('CREATE', key, 'g1', '0');
    await raw.xreadgroup('GROUP', 'g1', 'c1', 'COUNT', 10, 'STREAMS', key, '>');
    await raw.xack(key, 'g1', ...ids.slice(0, 4));
    // Group g2 read (and acknowledged) the first 8, then read 2 more, unacknowledged: 8, 9 pending.
    await raw.xgroup('CREATE', key, 'g2', '0');
    await raw.xreadgroup('GROUP', 'g2', 'c1', 'COUNT', 8, 'STREAMS', key, '>');
    await raw.xack(key, 'g2', ...ids.slice(0, 8));
    await raw.xreadgroup('GROUP', 'g2', 'c1', 'COUNT', 2, 'STREAMS', key, '>');

    assert.equal(await s.trim(), 4, 'only the 4 entries both groups acknowledged go');
    let left = (await raw.xrange(key, '-', '+')).map(([id]) => id);
    assert.deepEqual(left, ids.slice(4));

    // g1 acknowledges everything it read; g2 still has 8, 9 pending.
    await raw.xack(key, 'g1', ...ids.slice(4, 10));
    await raw.xreadgroup('GROUP', 'g1', 'c1', 'COUNT', 100, 'STREAMS', key, '>');
    await raw.xack(key, 'g1', ...ids.slice(10));
    assert.equal(await s.trim(), 4);
    left = (await raw.xrange(key, '-', '+')).map(([id]) => id);
    assert.deepEqual(left, ids.slice(8));

    // Everything acknowledged everywhere: maxLen rules.
    await raw.xack(key, 'g2', ...ids.slice(8, 10));
    await raw.xreadgroup('GROUP', 'g2', 'c1', 'COUNT', 100, 'STREAMS', key, '>');
    await raw.xack(key, 'g2', ...ids.slice(10));
    assert.equal(await s.trim(), 7);
    assert.equal(await s.length(), 5);

    // Entries a group has not read yet are protected, whoever else read them: g1 and g2
    // have not seen these; the late group starts after them.
    const more = await s.appendMany(Array.from({ length: 10 }, (_, i) => ({ more: i })));
    await raw.xgroup('CREATE', key, 'late', '$');
    const last = await s.append({ after: 1 });
    assert.equal(await s.trim(), 5, 'only the old, acknowledged entries go');
    assert.deepEqual(
      (await raw.xrange(key, '-', '+')).map(([id]) => id),
      [...more, last],
    );
    const info = await s.info();
    assert.equal(info.length, 11);
    assert.equal(info.dead, 0);
    // Redis may report a group's lag as unknown (null) after a trim; g1 and g2 it can count.
    assert.deepEqual(
      info.groups.map((g) => [g.name, g.pending, g.name === 'late' ? 'any' : g.lag]),
      [
        ['g1', 0, 11],
        ['g2', 0, 11],
        ['late', 0, 'any'],
      ],
    );
  });

  test('the maxLen timer trims on its own', async () => {
    const s = stream({ maxLen: 3, trimInterval: 20 });
    await s.appendMany([1, 2, 3, 4, 5, 6]);
    const deadline = Date.now() + 5000;
    while ((await s.length()) > 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await s.length(), 3);
  });
});
