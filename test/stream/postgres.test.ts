import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ValidationError } from '../../src/index.js';
import {
  EventStream,
  type PostgresSink,
  postgresSink,
  type StreamEntry,
  StreamProcessor,
} from '../../src/stream/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { backends, quiet, trackEvent, unique, waitFor } from './helpers.js';

requireRedisServer();
let redis: RedisProcess;
let raw: Redis;
const list = backends();
const closers: (() => Promise<void>)[] = [];

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
after(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  for (const b of list) await b.close();
  raw.disconnect();
  await redis.stop();
});

function streamFor(label: string): EventStream {
  const s = new EventStream(unique(label), { connection: redis.url, logger: quiet });
  closers.push(() => s.close());
  return s;
}

function processor(
  stream: EventStream,
  sink: (b: StreamEntry[]) => Promise<void>,
  opts = {},
): StreamProcessor {
  const p = new StreamProcessor(stream, 'db', { connection: redis.url, sink, logger: quiet, ...opts });
  p.on('error', () => {}); // provoked on purpose below
  closers.push(() => p.close());
  return p;
}

async function allAcknowledged(stream: EventStream, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    'every entry acknowledged',
    async () => {
      const g = (await stream.info()).groups[0];
      return g !== undefined && g.pending === 0 && g.lag === 0;
    },
    timeoutMs,
  );
}

test('postgresSink rejects a bad table name or URL', () => {
  assert.throws(() => postgresSink({ table: 'events; DROP TABLE x' }), { field: 'table' } as object);
  assert.throws(() => postgresSink({ table: 'a.b.c' }), ValidationError);
  assert.throws(() => postgresSink({ databaseUrl: 'mysql://x' }), { field: 'databaseUrl' } as object);
});

for (const backend of list) {
  describe(`PostgreSQL sink (${backend.name})`, () => {
    let sink: PostgresSink;
    const track = (s: PostgresSink) => {
      closers.push(() => s.close());
      return s;
    };

    test('writes a batch in one statement, idempotently by entry id, with the tracking columns', async () => {
      sink = track(backend.sink());
      const entries: StreamEntry[] = [
        { id: '1737280800000-0', stream: 's', data: trackEvent(1), deliveries: 1 },
        { id: '1737280800000-1', stream: 's', data: { other: 'shape' }, deliveries: 1 },
        { id: '1737280800001-0', stream: 's', data: 'a string', deliveries: 1 },
      ];
      await sink(entries);
      await sink(entries); // a redelivered batch
      await sink([entries[0]!, { id: '1737280800002-0', stream: 's', data: null, deliveries: 2 }]);
      assert.deepEqual(await backend.counts(sink), { rows: 4, distinct: 4 });
      const [row] = await sink.query<Record<string, unknown>>(
        `SELECT id, stream, event_type, page_url, session_id, target_element,
                extract(epoch from "timestamp")::bigint AS ts, extract(epoch from received_at) * 1000 AS received_ms,
                data->>'n' AS n
           FROM ${sink.table} WHERE id = '1737280800000-0'`,
      );
      assert.equal(row!.event_type, 'click');
      assert.equal(row!.page_url, 'http://example.com/p/1');
      assert.equal(row!.session_id, '123e4567-e89b-12d3-a456-426614174000');
      assert.equal(row!.target_element, 'button');
      assert.equal(Number(row!.ts), Date.UTC(2025, 0, 19, 10, 0, 1) / 1000);
      assert.equal(
        Math.round(Number(row!.received_ms)),
        1737280800000,
        'received_at is the append time in the id',
      );
      assert.equal(row!.n, '1');
    });

    test('the database down for a while: entries stay pending, then all land once, none dead', async () => {
      sink = track(backend.sink());
      await sink.ready();
      let down = true;
      let refused = 0;
      const flaky = async (batch: StreamEntry[]) => {
        if (down) {
          refused++;
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432 (database stopped)');
        }
        await sink(batch);
      };
      const stream = streamFor('outage');
      // maxDeliveries 2: an outage must not count against entries, or they would be dead-lettered.
      const p = processor(stream, flaky, {
        consumers: 3,
        batchSize: 20,
        flushInterval: 50,
        maxDeliveries: 2,
      });
      await p.ready();
      const total = 150;
      await stream.appendMany(Array.from({ length: total }, (_, i) => trackEvent(i)));
      await waitFor('failed writes', () => refused >= 20, 15_000);
      assert.deepEqual(await backend.counts(sink), { rows: 0, distinct: 0 });
      assert.ok((await stream.info()).groups[0]!.pending > 0);
      await sleep(500);
      down = false; // the database is back
      await allAcknowledged(stream);
      assert.deepEqual(await backend.counts(sink), { rows: total, distinct: total });
      assert.equal((await stream.info()).dead, 0);
    });

    test('a poison event is dead-lettered after maxDeliveries with its error; the rest of its batch commits', async () => {
      sink = track(backend.sink());
      await sink.ready();
      const stream = streamFor('poison');
      const dead: [StreamEntry, Error][] = [];
      const p = processor(stream, sink, {
        consumers: 1,
        batchSize: 60,
        flushInterval: 100,
        maxDeliveries: 3,
      });
      p.on('dead', (e: StreamEntry, err: Error) => dead.push([e, err]));
      await p.ready();
      const events = Array.from({ length: 60 }, (_, i) =>
        trackEvent(i, i === 37 ? { timestamp: 'not-a-date' } : {}),
      );
      const ids = await stream.appendMany(events);
      await waitFor('the dead letter', () => dead.length === 1, 20_000);
      await allAcknowledged(stream);
      assert.equal(dead[0]![0].id, ids[37]);
      assert.equal(dead[0]![0].deliveries, 4, 'delivered more than maxDeliveries (3) times');
      assert.match(dead[0]![1].message, /timestamp|time zone|invalid input/i);
      assert.deepEqual(await backend.counts(sink), { rows: 59, distinct: 59 });
      const [row] = await sink.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${sink.table} WHERE id = $1`,
        [ids[37]],
      );
      assert.equal(row!.n, 0);
      const letters = await raw.xrange(stream.keys.dead, '-', '+');
      assert.equal(letters.length, 1);
      const raw0 = letters[0]![1];
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < raw0.length; i += 2) f[raw0[i]!] = raw0[i + 1]!;
      assert.equal(f.id, ids[37]);
      assert.equal(f.group, 'db');
      assert.equal(f.deliveries, '4');
      assert.deepEqual(JSON.parse(f.data!), events[37]);
      assert.match(f.error!, /timestamp|time zone|invalid input/i);
      assert.equal((await stream.info()).dead, 1);
    });

    test('appendBatch entries: a row per event keyed <entryId>:<index>, a poison event dead-lettered alone, a redelivered batch written once', async () => {
      sink = track(backend.sink());
      await sink.ready();
      const stream = streamFor('batched');
      const dead: StreamEntry[] = [];
      // The first batch that commits reports a failure, as a lost reply would: it is written again.
      let lostReply = false;
      const flaky = async (batch: StreamEntry[]) => {
        await sink(batch);
        if (!lostReply) {
          lostReply = true;
          throw new Error('connection lost before the commit was confirmed');
        }
      };
      const p = processor(stream, flaky, {
        consumers: 1,
        batchSize: 100,
        flushInterval: 100,
        maxDeliveries: 2,
      });
      p.on('dead', (e: StreamEntry) => dead.push(e));
      await p.ready();
      const requests = Array.from({ length: 6 }, (_, r) =>
        Array.from({ length: 10 }, (_, i) =>
          trackEvent(r * 10 + i, r === 2 && i === 4 ? { timestamp: 'not-a-date' } : {}),
        ),
      );
      const ids = await Promise.all(requests.map((events) => stream.appendBatch(events)));
      assert.equal(await stream.length(), 6, 'one entry per batch');
      await waitFor('the dead letter', () => dead.length === 1, 20_000);
      await allAcknowledged(stream);
      assert.equal(dead[0]!.id, ids[2]![4]);
      assert.match(ids[2]![4]!, /^\d+-\d+:4$/);
      const rows = await sink.query<{ id: string; page_url: string }>(
        `SELECT id, page_url FROM ${sink.table} ORDER BY id`,
      );
      const expected = ids.flat().filter((id) => id !== ids[2]![4]);
      assert.deepEqual(
        rows.map((r) => r.id),
        [...expected].sort(),
        'every other event once, under its own id',
      );
      const byId = new Map(rows.map((r) => [r.id, r.page_url]));
      assert.equal(byId.get(ids[5]![9]!), 'http://example.com/p/59');
      const letters = await raw.xrange(stream.keys.dead, '-', '+');
      assert.equal(letters.length, 1);
      assert.equal(letters[0]![1][1], ids[2]![4]);
      assert.equal(
        (await stream.info()).groups[0]!.pending,
        0,
        "the poison event's entry is acknowledged too",
      );
    });

    test('a burst of events PostgreSQL refuses (NUL, lone surrogate, zone past 15:59) is dead-lettered, never wedges the processor', async () => {
      sink = track(backend.sink());
      await sink.ready();
      const stream = streamFor('refused');
      const dead: StreamEntry[] = [];
      const p = processor(stream, sink, { consumers: 3, batchSize: 50, flushInterval: 50, maxDeliveries: 2 });
      p.on('dead', (e: StreamEntry) => dead.push(e));
      await p.ready();
      const bad = [
        { page_url: 'nul \u0000 inside' },
        { target_element: 'lone \ud800 surrogate' },
        { timestamp: '2025-01-19T10:00:00+16:00' },
        { extra: { deep: ['\udc00'] } },
      ];
      // 300 events, every third one bad: no batch is free of them, as in a burst of bad requests.
      const events = Array.from({ length: 300 }, (_, i) => trackEvent(i, i % 3 === 0 ? bad[i % 4] : {}));
      const ids = [
        ...(await stream.appendMany(events.slice(0, 150))),
        ...(
          await Promise.all(
            Array.from({ length: 15 }, (_, r) =>
              stream.appendBatch(events.slice(150 + r * 10, 160 + r * 10)),
            ),
          )
        ).flat(),
      ];
      const badIds = ids.filter((_, i) => i % 3 === 0);
      await allAcknowledged(stream, 60_000);
      // The 'dead' event follows the script that acknowledged the entry: it may trail the ack by a turn.
      await waitFor('dead events', async () => dead.length >= badIds.length, 5_000);
      assert.deepEqual(await backend.counts(sink), { rows: 200, distinct: 200 });
      const rows = await sink.query<{ id: string }>(`SELECT id FROM ${sink.table}`);
      assert.ok(
        rows.every((r) => !badIds.includes(r.id)),
        'no refused event has a row',
      );
      assert.deepEqual(
        dead.map((e) => e.id).sort(),
        [...badIds].sort(),
        'each refused event dead-lettered once',
      );
      const letters = await raw.xrange(stream.keys.dead, '-', '+');
      assert.equal(letters.length, 100);
      assert.match(letters[0]![1][11]!, /SinkDataError: .*SQLSTATE 22/, 'the dead letter says why');
    });

    test('graceful shutdown mid-stream loses nothing: a second processor finishes, rows = events once', async () => {
      sink = track(backend.sink());
      await sink.ready();
      const stream = streamFor('shutdown');
      const slow = async (batch: StreamEntry[]) => {
        await sleep(30);
        await sink(batch);
      };
      const first = new StreamProcessor(stream, 'db', {
        connection: redis.url,
        sink: slow,
        consumers: 3,
        batchSize: 40,
        flushInterval: 200,
        logger: quiet,
      });
      await first.ready();
      const total = 600;
      const producing = (async () => {
        for (let i = 0; i < total; i += 50)
          await stream.appendMany(Array.from({ length: 50 }, (_, j) => trackEvent(i + j)));
      })();
      await waitFor('some rows', async () => (await backend.counts(sink)).rows > 0, 15_000);
      await first.close();
      const afterClose = await stream.info();
      assert.equal(afterClose.groups[0]!.pending, 0, 'close flushed and acknowledged everything it held');
      assert.equal(afterClose.groups[0]!.consumers, 0, 'and left no consumer names');
      await producing;
      const second = processor(stream, slow, { consumers: 2, batchSize: 100, flushInterval: 50 });
      await second.ready();
      await allAcknowledged(stream);
      assert.deepEqual(await backend.counts(sink), { rows: total, distinct: total });
    });
  });
}
