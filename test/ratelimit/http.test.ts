import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { rateLimitExpress } from '../../src/entry/express.js';
import { rateLimitFastify } from '../../src/entry/fastify.js';
import { RateLimiter } from '../../src/ratelimit/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
let redis: RedisProcess;
const limiters: RateLimiter[] = [];

// Seed 002's policy: 10 requests a minute per user.
function make(): RateLimiter {
  const l = new RateLimiter({
    connection: redis.url,
    algorithm: 'sliding-window',
    limit: 10,
    window: 60_000,
  });
  limiters.push(l);
  return l;
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  await redis.stop();
});

function checkAllowedHeaders(h: Record<string, unknown>, remaining: number): void {
  assert.equal(h['ratelimit-policy'], '"per-user";q=10;w=60');
  assert.equal(h.ratelimit, `"per-user";r=${remaining};t=60`);
  assert.equal(h['retry-after'], undefined);
}

describe('Fastify', () => {
  test('headers on every allowed response; 429 with Retry-After, headers and JSON when denied', async () => {
    const app = Fastify();
    await app.register(
      rateLimitFastify(make(), {
        key: (req) => String(req.headers['x-user'] ?? req.ip),
        policy: 'per-user',
        skip: (req) => req.url === '/health',
      }),
    );
    app.get('/', async () => ({ ok: true }));
    app.get('/health', async () => 'up');
    for (let i = 1; i <= 10; i++) {
      const res = await app.inject({ url: '/', headers: { 'x-user': 'alice' } });
      assert.equal(res.statusCode, 200);
      checkAllowedHeaders(res.headers, 10 - i);
    }
    const denied = await app.inject({ url: '/', headers: { 'x-user': 'alice' } });
    assert.equal(denied.statusCode, 429);
    assert.equal(denied.headers['ratelimit-policy'], '"per-user";q=10;w=60');
    assert.match(String(denied.headers.ratelimit), /^"per-user";r=0;t=(59|60)$/);
    const retry = Number(denied.headers['retry-after']);
    assert.ok(retry >= 59 && retry <= 60, `Retry-After ${retry}`);
    assert.match(String(denied.headers['content-type']), /application\/json/);
    const body = denied.json() as { error: string; retryAfter: number };
    assert.equal(body.error, 'Too Many Requests');
    assert.equal(body.retryAfter, retry);
    // Another user has their own budget; skipped routes are not counted.
    const bob = await app.inject({ url: '/', headers: { 'x-user': 'bob' } });
    checkAllowedHeaders(bob.headers, 9);
    const health = await app.inject({ url: '/health', headers: { 'x-user': 'alice' } });
    assert.equal(health.statusCode, 200);
    assert.equal(health.headers.ratelimit, undefined);
    await app.close();
  });
});

describe('Express', () => {
  test('headers on every allowed response; 429 with Retry-After, headers and JSON when denied', async () => {
    const app = express();
    app.use(rateLimitExpress(make(), { key: (req) => String(req.headers['x-user']), policy: 'per-user' }));
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      for (let i = 1; i <= 10; i++) {
        const res = await fetch(base, { headers: { 'x-user': 'carol' } });
        assert.equal(res.status, 200);
        await res.json();
        checkAllowedHeaders(Object.fromEntries(res.headers), 10 - i);
      }
      const denied = await fetch(base, { headers: { 'x-user': 'carol' } });
      assert.equal(denied.status, 429);
      assert.equal(denied.headers.get('ratelimit-policy'), '"per-user";q=10;w=60');
      assert.match(String(denied.headers.get('ratelimit')), /^"per-user";r=0;t=(59|60)$/);
      const retry = Number(denied.headers.get('retry-after'));
      assert.ok(retry >= 59 && retry <= 60, `Retry-After ${retry}`);
      const body = (await denied.json()) as { error: string; retryAfter: number };
      assert.deepEqual([body.error, body.retryAfter], ['Too Many Requests', retry]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a key function that throws goes to the error handler', async () => {
    const handler = rateLimitExpress(make(), {
      key: () => {
        throw new Error('no user');
      },
    });
    const err = await new Promise<unknown>((resolve) => {
      handler({} as never, {} as never, resolve);
    });
    assert.match(String(err), /no user/);
  });

  test('middleware options are validated', () => {
    const l = make();
    assert.throws(
      () => rateLimitExpress(l, {} as never),
      (e: unknown) => e instanceof ValidationError && e.field === 'key',
    );
    assert.throws(
      () => rateLimitFastify(l, { key: () => 'k', cost: 0 }),
      (e: unknown) => e instanceof ValidationError && e.field === 'cost',
    );
  });
});
