/**
 * Bad input to `hopper serve`'s authentication and connection handling: wrong, missing and
 * malformed tokens, tokens of the wrong scope on every route, slow clients and too many
 * connections. Each case expects the documented status (docs/security.md) and that nothing
 * was written: no job, no stream entry.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { queueKeys } from '../../src/queue/keys.js';
import { createServer, type HopperServer } from '../../src/server/index.js';
import type { ApiToken } from '../../src/server/tokens.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { testConfig, trackBody } from '../server/helpers.js';
import { quiet, unique } from '../stream/helpers.js';

const redis = new RedisFixture({ closeAfterEach: true });

const token = (name: string, ...scopes: ApiToken['scopes']): ApiToken => ({
  name,
  secret: `${name}-secret-0123456789abcdef`,
  scopes,
});
const SUBMITTER = token('submitter', 'submit');
const READER = token('reader', 'read');
const SCRAPER = token('scraper', 'metrics');
const ADMIN = token('admin', 'admin');
const ALL = [SUBMITTER, READER, SCRAPER, ADMIN];

const REQUEST_TIMEOUT = 2000;
const HEADERS_TIMEOUT = 1000;
const MAX_CONNECTIONS = 4;
/** Slack on top of a configured timeout: Node checks its deadlines once a second, and the machine is shared. */
const SLACK = 4000;

interface Running {
  s: HopperServer;
  port: number;
  queue: string;
}

async function start(): Promise<Running> {
  const queue = unique('guarded');
  const s = createServer(
    testConfig(redis.url, {
      processor: false,
      queues: [queue],
      submitLimit: 0,
      tokens: [SUBMITTER, READER, ADMIN],
      metricsTokens: [SCRAPER.secret],
      requestTimeout: REQUEST_TIMEOUT,
      headersTimeout: HEADERS_TIMEOUT,
      keepAliveTimeout: 1000,
      maxConnections: MAX_CONNECTIONS,
    }),
    { logger: quiet },
  );
  redis.track(s);
  await s.ready();
  await s.listen();
  return { s, port: (s.app.server.address() as { port: number }).port, queue };
}

/** Nothing reached Redis: no job in the queue, no entry in the stream. */
async function assertNothingWritten(r: Running, what: string): Promise<void> {
  const k = queueKeys('hopper', r.queue);
  assert.equal(await redis.raw.exists(k.wait, k.waitp, k.delayed), 0, `${what}: a job was written`);
  assert.equal(await r.s.stream.length(), 0, `${what}: an event was written`);
}

/** Every route but /health, with a body that would be accepted, and the scopes that may call it. */
function routes(queue: string) {
  const job = JSON.stringify({ name: 'j', data: { n: 1 } });
  return [
    { method: 'POST', url: `/api/v1/queues/${queue}/jobs`, body: job, scopes: ['submit'] },
    { method: 'GET', url: `/api/v1/queues/${queue}/jobs/1`, scopes: ['submit'] },
    { method: 'GET', url: '/api/v1/metrics', scopes: ['read'] },
    { method: 'GET', url: '/metrics', scopes: ['read', 'metrics'] },
    { method: 'GET', url: '/api/v1/openapi.json', scopes: ['submit', 'read'] },
    { method: 'POST', url: '/api/v1/track', body: JSON.stringify(trackBody(2)), scopes: ['submit'] },
  ] as { method: 'GET' | 'POST'; url: string; body?: string; scopes: string[] }[];
}

const inject = (r: Running, route: ReturnType<typeof routes>[number], authorization?: string) =>
  r.s.app.inject({
    method: route.method,
    url: route.url,
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(route.body ? { 'content-type': 'application/json' } : {}),
    },
    payload: route.body,
  });

test('missing, wrong and malformed tokens: 401 with WWW-Authenticate on every route, one body, nothing written', async () => {
  const r = await start();
  const secret = SUBMITTER.secret;
  const headers: (string | undefined)[] = [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Bearer ${secret}x`,
    `Bearer ${secret.slice(0, -1)}`,
    `Bearer ${secret.toUpperCase()}`,
    `Basic ${Buffer.from(`u:${secret}`).toString('base64')}`,
    `Token ${secret}`,
    secret,
    `Bearer ${secret} ${secret}`,
    `Bearer${secret}`,
    `Bearer ${'x'.repeat(8000)}`,
    `Bearer ${secret.replace('-', '\u00e9')}`,
  ];
  const bodies = new Set<string>();
  for (const route of routes(r.queue))
    for (const h of headers) {
      const res = await inject(r, route, h);
      const what = `${route.method} ${route.url} with ${JSON.stringify(h?.slice(0, 40))}`;
      assert.equal(res.statusCode, 401, `${what}: ${res.statusCode} ${res.body}`);
      assert.equal(res.headers['www-authenticate'], 'Bearer', what);
      bodies.add(res.body);
    }
  assert.deepEqual([...bodies], ['{"error":"unauthorized"}'], 'one answer whatever was wrong');
  await assertNothingWritten(r, '401s');
  assert.notEqual(
    (await r.s.app.inject({ method: 'GET', url: '/health' })).statusCode,
    401,
    'health is public',
  );
});

test('a valid token of the wrong scope: 403 on every route it may not call, nothing written; the right scope passes', async () => {
  const r = await start();
  for (const route of routes(r.queue))
    for (const t of ALL) {
      const allowed =
        t.scopes.includes('admin') || route.scopes.some((s) => (t.scopes as string[]).includes(s));
      const res = await inject(r, route, `Bearer ${t.secret}`);
      const what = `${route.method} ${route.url} as ${t.name}`;
      if (allowed) assert.notEqual(res.statusCode, 403, `${what}: ${res.body}`);
      else {
        assert.equal(res.statusCode, 403, `${what}: ${res.statusCode} ${res.body}`);
        assert.equal(typeof res.json().error, 'string');
      }
    }
  // Only the allowed submissions wrote: submitter and admin posted one job and one track body each.
  assert.equal(await redis.raw.llen(queueKeys('hopper', r.queue).wait), 2);
  assert.equal(await r.s.stream.length(), 2);
});

/** A raw connection; `closed` resolves with what the server sent once it closes the socket. */
function open(port: number): { socket: Socket; closed: Promise<{ at: number; received: string }> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    received += d;
  });
  socket.on('error', () => {});
  const closed = new Promise<{ at: number; received: string }>((resolve) =>
    socket.once('close', () => resolve({ at: Date.now(), received })),
  );
  return { socket, closed };
}

/** Writes `text` a byte every `everyMs` until the server closes the socket or `maxMs` passes. */
async function trickle(socket: Socket, text: string, everyMs: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  for (const ch of text) {
    if (socket.destroyed || Date.now() > until) return;
    socket.write(ch);
    await sleep(everyMs);
  }
}

const head = (r: Running, authorization: string, length: number) =>
  `POST /api/v1/queues/${r.queue}/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

test('a client trickling its body after a 401 is cut off at once; with a valid token, within HTTP_REQUEST_TIMEOUT', async () => {
  const r = await start();
  const body = JSON.stringify({ name: 'j', data: { pad: 'x'.repeat(400) } });
  for (const [label, authorization, bound] of [
    ['wrong token', 'Bearer wrong-token-0123456789abcdef', REQUEST_TIMEOUT],
    ['valid token', `Bearer ${SUBMITTER.secret}`, REQUEST_TIMEOUT],
  ] as const) {
    const c = open(r.port);
    const started = Date.now();
    c.socket.write(head(r, authorization, body.length));
    await trickle(c.socket, body, 50, bound + SLACK + 2000);
    const { at, received } = await Promise.race([
      c.closed,
      sleep(2000).then(() => ({ at: Infinity, received: '' })),
    ]);
    c.socket.destroy();
    assert.ok(at - started <= bound + SLACK, `${label}: the socket stayed open ${at - started} ms`);
    if (label === 'wrong token') assert.match(received, /^HTTP\/1\.1 401/);
    else assert.match(received, /^HTTP\/1\.1 408|^$/, received);
  }
  await assertNothingWritten(r, 'trickled bodies');
});

test('a client trickling its headers is cut off within HTTP_HEADERS_TIMEOUT', async () => {
  const r = await start();
  const c = open(r.port);
  const started = Date.now();
  await trickle(c.socket, head(r, `Bearer ${SUBMITTER.secret}`, 20), 100, HEADERS_TIMEOUT + SLACK + 2000);
  const { at } = await Promise.race([c.closed, sleep(2000).then(() => ({ at: Infinity }))]);
  c.socket.destroy();
  assert.ok(at - started <= HEADERS_TIMEOUT + SLACK, `the socket stayed open ${at - started} ms`);
  await assertNothingWritten(r, 'trickled headers');
});

test('connections past HTTP_MAX_CONNECTIONS are refused; those within the cap are served', async () => {
  const r = await start();
  const held = Array.from({ length: MAX_CONNECTIONS }, () => open(r.port));
  await Promise.all(held.map((c) => new Promise((resolve) => c.socket.once('connect', resolve))));
  // Let the server register them before the extra ones arrive.
  await sleep(200);
  // Each extra connection sends a whole request at once: within the cap it would get a 200.
  const request = `GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${READER.secret}\r\nConnection: close\r\n\r\n`;
  const extra = Array.from({ length: 3 }, () => open(r.port));
  for (const c of extra) {
    c.socket.write(request);
    const { received } = await c.closed;
    assert.equal(received, '', `an extra connection was served: ${received.slice(0, 40)}`);
  }
  // A request on a held connection is served.
  const first = held[0]!;
  first.socket.write(request);
  const { received } = await first.closed;
  assert.match(received, /^HTTP\/1\.1 200/);
  for (const c of held) c.socket.destroy();
  await assertNothingWritten(r, 'connection cap');
});
