import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisPid } from '../../src/cli/redis-probe.js';
import { createServer, type HopperServer } from '../../src/server/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, unique } from '../stream/helpers.js';
import { auth, testConfig } from './helpers.js';

requireRedisServer();

/** Far below the 7 to 11 s the producer clients' retries took, and finite where they hung. */
const PROMPT_MS = 6000;

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

const queue = unique('outage');

/** Every Redis-backed route but track (track has its own test): method, url, body. */
const routes = (id: string) =>
  [
    ['POST', `/api/v1/queues/${queue}/jobs`, { name: 'x', data: {} }],
    ['GET', `/api/v1/queues/${queue}/jobs/${id}`, undefined],
    ['GET', '/api/v1/metrics', undefined],
    ['GET', '/metrics', undefined],
  ] as const;

/** The answer, or 'no answer' when none came within PROMPT_MS. */
async function ask(server: HopperServer, method: string, url: string, payload?: object) {
  const answer = server.app.inject({ method: method as 'GET', url, headers: auth(), payload });
  const timeout = sleep(PROMPT_MS).then(() => 'no answer' as const);
  return Promise.race([answer, timeout]);
}

async function assertAll503(server: HopperServer, id: string, what: string) {
  for (const [method, url, body] of routes(id)) {
    const r = await ask(server, method, url, body);
    assert.notEqual(r, 'no answer', `${what}: ${method} ${url} did not answer within ${PROMPT_MS} ms`);
    if (r === 'no answer') return;
    assert.equal(r.statusCode, 503, `${what}: ${method} ${url} answered ${r.statusCode} ${r.body}`);
    assert.ok(Number(r.headers['retry-after']) > 0, `${what}: ${method} ${url} without Retry-After`);
    assert.equal(typeof r.json().error, 'string');
  }
}

async function serverWithJob(): Promise<{ server: HopperServer; id: string }> {
  const server = createServer(testConfig(redis.url, { processor: false, queues: [queue], submitLimit: 0 }), {
    logger: process.env.DEBUG_LOG ? (await import('pino')).pino() : quiet,
  });
  await server.ready();
  const added = await server.app.inject({
    method: 'POST',
    url: `/api/v1/queues/${queue}/jobs`,
    headers: auth(),
    payload: { name: 'x', data: {} },
  });
  assert.equal(added.statusCode, 202, added.body);
  const id = added.json().jobId as string;
  for (const [method, url, body] of routes(id)) {
    const r = await server.app.inject({ method, url, headers: auth(), payload: body });
    assert.ok(r.statusCode < 300, `${method} ${url} before the outage: ${r.statusCode}`);
  }
  return { server, id };
}

test('Redis hung (SIGSTOP): jobs, metrics and Prometheus routes answer 503 with Retry-After, none hangs', async () => {
  const { server, id } = await serverWithJob();
  const pid = await redisPid('127.0.0.1', redis.port, 2000);
  assert.ok(pid, 'redis pid');
  process.kill(pid, 'SIGSTOP');
  try {
    await assertAll503(server, id, 'hung');
  } finally {
    process.kill(pid, 'SIGCONT');
    await server.close();
  }
});

test('Redis down (killed): the same routes answer 503 with Retry-After promptly; after a restart, 2xx again', async () => {
  const { server, id } = await serverWithJob();
  try {
    await redis.kill9();
    // Until the probe connection notices the dead socket a request may still try Redis: wait for that.
    const deadline = Date.now() + 5000;
    while (server.stream && Date.now() < deadline) {
      const r = await server.app.inject({ method: 'GET', url: '/health' });
      if (r.json().redis === 'unhealthy') break;
      await sleep(50);
    }
    await assertAll503(server, id, 'down');
    await redis.restart();
    const back = Date.now() + 15_000;
    let r = await ask(server, 'GET', '/api/v1/metrics');
    while ((r === 'no answer' || r.statusCode !== 200) && Date.now() < back) {
      await sleep(100);
      r = await ask(server, 'GET', '/api/v1/metrics');
    }
    assert.ok(r !== 'no answer' && r.statusCode === 200, 'metrics back after the restart');
  } finally {
    await server.close();
  }
});
