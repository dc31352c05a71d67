import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer, type HopperServer } from '../../src/server/index.js';
import { MAX_DEPTH } from '../../src/server/track-schema.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { auth, capturingLogger, SESSION, seedEvent, testConfig, trackBody } from '../server/helpers.js';

/**
 * The track route's bad-input suite: every malformed, oversized, mistyped or unstorable
 * body gets the documented status and error shape `{ error, field? }` as JSON, and
 * nothing reaches the stream.
 */
const fx = new RedisFixture();
const BODY_LIMIT = 64 * 1024;

let server: HopperServer;

const post = (payload: string, headers: Record<string, string> = {}) =>
  server.app.inject({
    method: 'POST',
    url: '/api/v1/track',
    headers: { ...auth(), 'content-type': 'application/json', ...headers },
    payload,
  });
/** A body of one event with `extra` fields, as JSON text (JSON.stringify writes a lone surrogate as its \u escape). */
const oneEvent = (extra: Record<string, unknown>) =>
  JSON.stringify({ session_id: SESSION, events: [seedEvent(0, extra)] });
const nested = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const withRaw = (field: string, rawJson: string) =>
  oneEvent({}).replace('"event_type"', `${JSON.stringify(field)}:${rawJson},"event_type"`);

type Case = [name: string, send: () => ReturnType<typeof post>, status: number, field: string | undefined];
const cases: Case[] = [
  // Malformed JSON
  ['truncated JSON', () => post('{"session_id": '), 400, 'body'],
  ['empty body', () => post(''), 400, 'body'],
  ['trailing garbage', () => post(`${JSON.stringify(trackBody(1))}x`), 400, 'body'],
  ['single quotes', () => post("{'session_id': 1}"), 400, 'body'],
  ['JSON null', () => post('null'), 400, 'body'],
  ['JSON array', () => post('[]'), 400, 'body'],
  // Size
  [
    'body over BODY_LIMIT',
    () => post(JSON.stringify(trackBody(1, { pad: 'x'.repeat(BODY_LIMIT) }))),
    413,
    undefined,
  ],
  ['more than TRACK_MAX_EVENTS events', () => post(JSON.stringify(trackBody(6))), 400, 'events'],
  [
    'page_url over 8192 characters',
    () => post(oneEvent({ page_url: 'x'.repeat(8193) })),
    400,
    'events[0].page_url',
  ],
  // Content types
  ['text/plain', () => post(JSON.stringify(trackBody(1)), { 'content-type': 'text/plain' }), 415, undefined],
  [
    'form encoded',
    () => post('a=1', { 'content-type': 'application/x-www-form-urlencoded' }),
    415,
    undefined,
  ],
  ['no content type', () => post(JSON.stringify(trackBody(1)), { 'content-type': '' }), 415, undefined],
  ['application/xml', () => post('<a/>', { 'content-type': 'application/xml' }), 415, undefined],
  // Prototype pollution
  [
    '__proto__ at the top',
    () => post(JSON.stringify(trackBody(1)).replace('{', '{"__proto__":{"polluted":true},')),
    400,
    'body',
  ],
  ['__proto__ in an event', () => post(withRaw('__proto__', '{"admin":true}')), 400, 'body'],
  [
    'constructor.prototype in an event',
    () => post(withRaw('constructor', '{"prototype":{"x":1}}')),
    400,
    'body',
  ],
  // Nesting
  [
    `nesting past ${MAX_DEPTH} levels`,
    () => post(withRaw('deep', nested(MAX_DEPTH + 1))),
    400,
    'events[0].deep',
  ],
  [
    'nesting 10,000 levels (JSON.stringify would overflow)',
    () => post(withRaw('deep', nested(10_000))),
    400,
    'events[0].deep',
  ],
  // Text PostgreSQL cannot store
  ['NUL in page_url', () => post(oneEvent({ page_url: 'a\u0000b' })), 400, 'events[0].page_url'],
  [
    'NUL in an extra field',
    () => post(oneEvent({ note: { a: ['ok', 'x\u0000'] } })),
    400,
    'events[0].note.a[1]',
  ],
  ['NUL in a key', () => post(oneEvent({ 'k\u0000': 1 })), 400, 'events[0]["k\\u0000"]'],
  [
    'lone high surrogate',
    () => post(oneEvent({ target_element: 'x\ud800' })),
    400,
    'events[0].target_element',
  ],
  [
    'lone low surrogate in event_type',
    () => post(oneEvent({ event_type: '\udc00' })),
    400,
    'events[0].event_type',
  ],
  ['lone surrogate in a key', () => post(oneEvent({ '\ud83d': 1 })), 400, 'events[0]["\\ud83d"]'],
  // Timestamps
  [
    'zone offset +16:00',
    () => post(oneEvent({ timestamp: '2025-01-19T10:00:00+16:00' })),
    400,
    'events[0].timestamp',
  ],
  [
    'zone offset -23:59',
    () => post(oneEvent({ timestamp: '2025-01-19T10:00:00-23:59' })),
    400,
    'events[0].timestamp',
  ],
  ['no zone', () => post(oneEvent({ timestamp: '2025-01-19T10:00:00' })), 400, 'events[0].timestamp'],
  ['Feb 29 of 2025', () => post(oneEvent({ timestamp: '2025-02-29T10:00:00Z' })), 400, 'events[0].timestamp'],
  ['hour 24', () => post(oneEvent({ timestamp: '2025-01-19T24:00:00Z' })), 400, 'events[0].timestamp'],
  ['year 0', () => post(oneEvent({ timestamp: '0000-01-19T10:00:00Z' })), 400, 'events[0].timestamp'],
  ['epoch number', () => post(oneEvent({ timestamp: 1737280800000 })), 400, 'events[0].timestamp'],
  ['free text', () => post(oneEvent({ timestamp: 'yesterday' })), 400, 'events[0].timestamp'],
  // Wrong types
  [
    'session_id a number',
    () => post(JSON.stringify({ session_id: 1, events: [seedEvent(0)] })),
    400,
    'session_id',
  ],
  [
    'session_id not a UUID',
    () => post(JSON.stringify({ ...trackBody(1), session_id: 'abc' })),
    400,
    'session_id',
  ],
  ['events an object', () => post(JSON.stringify({ session_id: SESSION, events: {} })), 400, 'events'],
  ['events empty', () => post(JSON.stringify({ session_id: SESSION, events: [] })), 400, 'events'],
  ['an event a string', () => post(JSON.stringify({ session_id: SESSION, events: ['x'] })), 400, 'events[0]'],
  ['an event an array', () => post(JSON.stringify({ session_id: SESSION, events: [[]] })), 400, 'events[0]'],
  ['event_type an array', () => post(oneEvent({ event_type: ['click'] })), 400, 'events[0].event_type'],
  ['event_type empty', () => post(oneEvent({ event_type: '' })), 400, 'events[0].event_type'],
  ['page_url null', () => post(oneEvent({ page_url: null })), 400, 'events[0].page_url'],
  ['target_element a number', () => post(oneEvent({ target_element: 3 })), 400, 'events[0].target_element'],
];

describe('POST /api/v1/track: bad input', () => {
  before(async () => {
    // No processor: the stream's length alone shows whether anything was written.
    server = createServer(
      testConfig(fx.url, { processor: false, trackMaxEvents: 5, bodyLimit: BODY_LIMIT }),
      {
        logger: capturingLogger().logger,
      },
    );
    await server.ready();
  });
  after(() => server.close());

  for (const [name, send, status, field] of cases) {
    test(`${name} -> ${status}${field ? ` naming ${field}` : ''}, nothing written`, async () => {
      const before = await server.stream.length();
      const r = await send();
      assert.equal(r.statusCode, status, r.body);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const body = r.json() as Record<string, unknown>;
      assert.equal(typeof body.error, 'string', r.body);
      assert.deepEqual(Object.keys(body).sort(), field ? ['error', 'field'] : ['error'], r.body);
      assert.equal(body.field, field);
      assert.equal(await server.stream.length(), before, 'nothing appended');
    });
  }

  test('the same event made storable is accepted (the checks refuse only what they name)', async () => {
    const before = await server.stream.length();
    const r = await post(
      oneEvent({
        timestamp: '2025-01-19T10:00:00+15:59',
        note: { emoji: '\ud83d\ude00', deep: JSON.parse(nested(MAX_DEPTH - 1)) },
        constructor: 'plain',
      }),
    );
    assert.equal(r.statusCode, 202, r.body);
    assert.equal(await server.stream.length(), before + 1);
  });
});
