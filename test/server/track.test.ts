import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createServer, type HopperServer } from '../../src/server/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { backends, waitFor } from '../stream/helpers.js';
import {
  auth,
  capturingLogger,
  OTHER_TOKEN,
  SESSION,
  seedEvent,
  TOKEN,
  testConfig,
  trackBody,
} from './helpers.js';

requireRedisServer();

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

for (const backend of backends()) {
  describe(`track -> ${backend.name}`, () => {
    after(() => backend.close());

    test('POST track -> 202 with ids -> rows in PostgreSQL exactly once; health 200 with numbers', async () => {
      const sink = backend.sink();
      const server = createServer(testConfig(redis.url), { sink, logger: capturingLogger().logger });
      try {
        await server.ready();
        const posts = await Promise.all(
          [3, 1, 20].map((n) =>
            server.app.inject({
              method: 'POST',
              url: '/api/v1/track',
              headers: auth(),
              payload: trackBody(n),
            }),
          ),
        );
        const ids: string[] = [];
        for (const r of posts) {
          assert.equal(r.statusCode, 202, r.body);
          const body = r.json() as { accepted: number; ids: string[] };
          assert.equal(body.accepted, body.ids.length);
          ids.push(...body.ids);
        }
        assert.equal(ids.length, 24);
        await waitFor('24 rows', async () => (await backend.counts(sink)).rows >= 24, 20_000);
        // Give a duplicate write the chance to show before counting.
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(await backend.counts(sink), { rows: 24, distinct: 24 });
        const rows = await sink.query<{ id: string; session_id: string; event_type: string }>(
          `SELECT id, session_id, event_type FROM ${sink.table} ORDER BY id`,
        );
        assert.deepEqual(
          rows.map((r) => r.id),
          [...ids].sort(),
        );
        assert.ok(rows.every((r) => r.session_id === SESSION && r.event_type === 'click'));

        const health = await server.app.inject({ method: 'GET', url: '/health' });
        assert.equal(health.statusCode, 200, health.body);
        const h = health.json();
        assert.equal(h.status, 'healthy');
        assert.equal(h.redis, 'healthy');
        assert.equal(h.database, 'healthy');
        assert.equal(typeof h.queue_depth, 'number');
        assert.equal(typeof h.queue_pending, 'number');
        assert.ok(h.consumers >= 1, 'the group has consumers');
      } finally {
        await server.close();
      }
    });
  });
}

describe('bad input and auth', () => {
  let server: HopperServer;
  const captured = capturingLogger();
  before(async () => {
    // No processor: the stream length alone shows whether anything was written.
    server = createServer(testConfig(redis.url, { processor: false, trackMaxEvents: 5 }), {
      logger: captured.logger,
    });
    await server.ready();
  });
  after(() => server.close());

  const post = (payload: string | object | undefined, headers: Record<string, string> = {}) =>
    server.app.inject({
      method: 'POST',
      url: '/api/v1/track',
      headers: { ...auth(), 'content-type': 'application/json', ...headers },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });

  const cases: [string, () => ReturnType<typeof post>, number, string | undefined][] = [
    ['malformed JSON', () => post('{"session_id": '), 400, 'body'],
    ['empty body', () => post(''), 400, 'body'],
    [
      'wrong content type',
      () => post(JSON.stringify(trackBody(1)), { 'content-type': 'text/plain' }),
      415,
      undefined,
    ],
    [
      'form content type',
      () => post('a=1', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      undefined,
    ],
    ['body over BODY_LIMIT', () => post({ ...trackBody(1), pad: 'x'.repeat(1024 * 1024) }), 413, undefined],
    ['array body', () => post([]), 400, 'body'],
    ['missing session_id', () => post({ events: [seedEvent(0)] }), 400, 'session_id'],
    ['session_id not a UUID', () => post({ ...trackBody(1), session_id: 'abc' }), 400, 'session_id'],
    ['events not an array', () => post({ session_id: SESSION, events: {} }), 400, 'events'],
    ['empty events', () => post({ session_id: SESSION, events: [] }), 400, 'events'],
    ['too many events (400)', () => post(trackBody(6)), 400, 'events'],
    [
      'bad timestamp in the 4th event',
      () =>
        post({
          session_id: SESSION,
          events: [0, 1, 2, 3].map((i) => seedEvent(i, i === 3 ? { timestamp: '2025-13-01' } : {})),
        }),
      400,
      'events[3].timestamp',
    ],
    [
      'timestamp without zone',
      () => post({ session_id: SESSION, events: [seedEvent(0, { timestamp: '2025-01-19T10:00:00' })] }),
      400,
      'events[0].timestamp',
    ],
    [
      'Feb 30',
      () => post({ session_id: SESSION, events: [seedEvent(0, { timestamp: '2025-02-30T10:00:00Z' })] }),
      400,
      'events[0].timestamp',
    ],
    [
      'event_type a number',
      () => post({ session_id: SESSION, events: [seedEvent(0, { event_type: 7 })] }),
      400,
      'events[0].event_type',
    ],
    [
      'missing page_url',
      () => post({ session_id: SESSION, events: [{ ...seedEvent(0), page_url: undefined }] }),
      400,
      'events[0].page_url',
    ],
    [
      'target_element null',
      () => post({ session_id: SESSION, events: [seedEvent(0, { target_element: null })] }),
      400,
      'events[0].target_element',
    ],
    [
      'event not an object',
      () => post({ session_id: SESSION, events: [seedEvent(0), 'x'] }),
      400,
      'events[1]',
    ],
  ];

  for (const [name, send, status, field] of cases) {
    test(`${name} -> ${status}${field ? ` naming ${field}` : ''}, nothing appended`, async () => {
      const before = await server.stream.length();
      const r = await send();
      assert.equal(r.statusCode, status, r.body);
      const body = r.json() as { error: string; field?: string };
      assert.equal(typeof body.error, 'string');
      assert.equal(body.field, field);
      assert.equal(await server.stream.length(), before);
    });
  }

  test('a valid body is accepted with extra properties kept', async () => {
    const before = await server.stream.length();
    const r = await post(trackBody(2, { cart: { items: 3 } }));
    assert.equal(r.statusCode, 202, r.body);
    // One entry per request, its events in order; ids `<entryId>:<index>`.
    assert.equal(await server.stream.length(), before + 1);
    const { ids } = r.json() as { ids: string[] };
    assert.equal(ids.length, 2);
    const entryId = ids[0]!.split(':')[0]!;
    assert.deepEqual(ids, [`${entryId}:0`, `${entryId}:1`]);
    const raw = new Redis(redis.url);
    const entries = await raw
      .xrange(server.stream.keys.stream, entryId, entryId)
      .finally(() => raw.disconnect());
    const fields = entries[0]![1];
    assert.equal(fields.length, 4);
    assert.deepEqual(
      [0, 2].map((i) => fields[i]),
      ['e', 'e'],
    );
    assert.deepEqual(JSON.parse(fields[1]!).cart, { items: 3 });
    assert.equal(JSON.parse(fields[3]!).page_url, 'http://example.com/p/1');
  });

  test('no token and a wrong token get the same 401; health needs none; a second token works', async () => {
    const before = await server.stream.length();
    const none = await server.app.inject({ method: 'POST', url: '/api/v1/track', payload: trackBody(1) });
    const wrong = await server.app.inject({
      method: 'POST',
      url: '/api/v1/track',
      headers: auth(`${TOKEN}x`),
      payload: trackBody(1),
    });
    const basic = await server.app.inject({
      method: 'POST',
      url: '/api/v1/track',
      headers: { authorization: `Basic ${TOKEN}` },
      payload: trackBody(1),
    });
    for (const r of [none, wrong, basic]) {
      assert.equal(r.statusCode, 401);
      assert.equal(r.body, none.body);
      assert.equal(r.headers['www-authenticate'], 'Bearer');
    }
    assert.equal(await server.stream.length(), before);
    const unknownRoute = await server.app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(unknownRoute.statusCode, 401);
    const health = await server.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200, health.body);
    assert.equal(health.json().database, 'disabled');
    const other = await post(trackBody(1), auth(OTHER_TOKEN));
    assert.equal(other.statusCode, 202);
  });

  test('tokens never appear in the logs', async () => {
    await post(trackBody(1), auth(`${TOKEN}-wrong`));
    await post('{bad', auth(TOKEN));
    const text = captured.text();
    assert.ok(text.length > 0, 'something was logged');
    assert.ok(!text.includes(TOKEN.slice(0, 16)), 'a token reached the logs');
    assert.ok(!text.includes(OTHER_TOKEN.slice(0, 16)), 'a token reached the logs');
  });

  test('health warns once when depth passes QUEUE_DEPTH_WARN', async () => {
    const log = capturingLogger();
    const s = createServer(testConfig(redis.url, { processor: false, queueDepthWarn: 3 }), {
      logger: log.logger,
    });
    try {
      await s.ready();
      // Depth counts stream entries: one per accepted request.
      for (const n of [1, 2, 1, 1])
        await s.app.inject({ method: 'POST', url: '/api/v1/track', headers: auth(), payload: trackBody(n) });
      for (let i = 0; i < 2; i++) {
        const h = await s.app.inject({ method: 'GET', url: '/health' });
        assert.equal(h.statusCode, 200);
        assert.equal(h.json().queue_depth, 4);
        assert.match(h.json().warnings[0], /exceeds 3/);
      }
      assert.equal(log.lines.filter((l) => l.includes('Queue depth exceeded')).length, 1);
    } finally {
      await s.close();
    }
  });
});
