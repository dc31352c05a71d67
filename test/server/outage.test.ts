import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from '../../src/server/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet } from '../stream/helpers.js';
import { auth, testConfig, trackBody } from './helpers.js';

requireRedisServer();

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

test('Redis killed -> 503 with Retry-After within about a second, health 503; restarted -> 202 again', async () => {
  const server = createServer(testConfig(redis.url, { processor: false }), { logger: quiet });
  const post = () =>
    server.app.inject({ method: 'POST', url: '/api/v1/track', headers: auth(), payload: trackBody(1) });
  try {
    await server.ready();
    assert.equal((await post()).statusCode, 202);

    await redis.kill9();
    const started = Date.now();
    let r = await post();
    // The first request may still race the client noticing the dead socket; it never gets a 202.
    while (r.statusCode !== 503 && Date.now() - started < 3000) {
      assert.notEqual(r.statusCode, 202, 'a 202 while Redis is down');
      await sleep(20);
      r = await post();
    }
    const elapsed = Date.now() - started;
    assert.equal(r.statusCode, 503, r.body);
    assert.ok(elapsed < 1500, `503 took ${elapsed} ms`);
    assert.ok(Number(r.headers['retry-after']) > 0, 'Retry-After header');
    assert.equal(typeof r.json().error, 'string');

    const t = Date.now();
    const health = await server.app.inject({ method: 'GET', url: '/health' });
    assert.ok(Date.now() - t < 1500, 'health answered promptly');
    assert.equal(health.statusCode, 503);
    assert.equal(health.json().redis, 'unhealthy');
    assert.equal(health.json().status, 'unhealthy');

    await redis.restart();
    let again = await post();
    const deadline = Date.now() + 15_000;
    while (again.statusCode !== 202 && Date.now() < deadline) {
      await sleep(100);
      again = await post();
    }
    assert.equal(again.statusCode, 202, again.body);
    assert.equal((await server.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  } finally {
    await server.close();
  }
});
