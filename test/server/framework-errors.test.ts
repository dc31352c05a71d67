import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createServer, type HopperServer } from '../../src/server/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { auth, capturingLogger, testConfig } from './helpers.js';

/**
 * Errors answered by Fastify or Node rather than a route: each in the documented shape
 * `{ error, field? }`, and the documented parameter limits (queue name 200, job id 256
 * characters) reachable through the router.
 */
const fx = new RedisFixture();
const QUEUE = 'q'.repeat(200);

function assertShape(status: number, body: string, expected: number, field?: string): void {
  assert.equal(status, expected, body);
  const parsed = JSON.parse(body) as Record<string, unknown>;
  assert.equal(typeof parsed.error, 'string', body);
  assert.deepEqual(Object.keys(parsed).sort(), field ? ['error', 'field'] : ['error'], body);
  assert.equal(parsed.field, field);
}

describe('framework errors', () => {
  let server: HopperServer;
  let base: string;
  before(async () => {
    server = createServer(testConfig(fx.url, { processor: false, queues: [QUEUE] }), {
      logger: capturingLogger().logger,
    });
    await server.ready();
    base = await server.listen();
  });
  after(() => server.close());

  test('a 200-character queue name and a 256-character job id route (no 414), and the statusUrl answers', async () => {
    const jobId = 'j'.repeat(256);
    const r = await fetch(`${base}/api/v1/queues/${QUEUE}/jobs`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'long', data: {}, opts: { jobId } }),
    });
    assert.equal(r.status, 202, await r.clone().text());
    const { statusUrl } = (await r.json()) as { statusUrl: string };
    const status = await fetch(`${base}${statusUrl}`, { headers: auth() });
    assert.equal(status.status, 200, await status.clone().text());
    assert.equal(((await status.json()) as { id: string }).id, jobId);
  });

  test('a job id past its documented limit is a 400 naming it, not a 414', async () => {
    const r = await fetch(`${base}/api/v1/queues/${QUEUE}/jobs/${'j'.repeat(300)}`, { headers: auth() });
    assertShape(r.status, await r.text(), 400, 'id');
  });

  test('a parameter past the router limit: 414 in the error shape', async () => {
    const r = await fetch(`${base}/api/v1/queues/${QUEUE}/jobs/${'j'.repeat(5000)}`, { headers: auth() });
    assertShape(r.status, await r.text(), 414);
  });

  test('bad percent-encoding in the path: 400 in the error shape', async () => {
    const r = await fetch(`${base}/api/v1/queues/%E0%A4%A/jobs/1`, { headers: auth() });
    assertShape(r.status, await r.text(), 400, 'url');
  });

  test('unknown route and wrong method: 404 in the error shape', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['DELETE', '/api/v1/track'],
      ['GET', '/api/v1/track'],
    ] as const) {
      const r = await fetch(`${base}${path}`, { method, headers: auth() });
      assertShape(r.status, await r.text(), 404);
    }
  });

  test('Content-Length larger than the body: 400 in the error shape', async () => {
    const r = await server.app.inject({
      method: 'POST',
      url: '/api/v1/track',
      headers: { ...auth(), 'content-type': 'application/json', 'content-length': '100' },
      payload: '{}',
    });
    assertShape(r.statusCode, r.body, 400);
  });

  test('a malformed HTTP request: 400 in the error shape, written by the client error handler', async () => {
    const { port } = new URL(base);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT A REQUEST\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => {
        data += d;
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    const [head, body] = reply.split('\r\n\r\n') as [string, string];
    assert.match(head, /^HTTP\/1.1 400 /);
    assertShape(400, body, 400);
  });
});

test('a request that arrives while the server closes: 503 in the error shape', async () => {
  const server = createServer(testConfig(fx.url, { processor: false }), { logger: capturingLogger().logger });
  let answer: { status: number; body: string } | undefined;
  let base = '';
  // Runs after the server's own preClose hook: close() has begun, the socket still listens.
  server.app.addHook('preClose', async () => {
    const r = await fetch(`${base}/health`);
    answer = { status: r.status, body: await r.text() };
  });
  await server.ready();
  base = await server.listen();
  await server.close();
  assert.ok(answer, 'the request was answered');
  assertShape(answer.status, answer.body, 503);
});
