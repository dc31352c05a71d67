import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/server/config.js';
import { createServer, type HopperServer } from '../../src/server/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, waitFor } from '../helpers/worker-process.js';
import { auth, SESSION, seedEvent, testConfig } from '../server/helpers.js';

requireRedisServer();

let redis: RedisProcess;
let tmp: string;
let server: HopperServer;

before(async () => {
  redis = await startRedis({ aof: true, args: ['--appendfsync', 'always'] });
  tmp = mkdtempSync(join(tmpdir(), 'hopper-track-spool-'));
  server = createServer(testConfig(redis.url, { processor: false, trackSpoolDir: tmp }), { logger: quiet });
  await server.ready();
});

after(async () => {
  await server?.close();
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const track = (n: number) =>
  server.app.inject({
    method: 'POST',
    url: '/api/v1/track',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: JSON.stringify({ session_id: SESSION, events: [seedEvent(n)] }),
  });

const health = async () => (await server.app.inject({ method: 'GET', url: '/health' })).json();

test('TRACK_SPOOL_DIR: events posted while Redis is down get 202 spooled and are stored when it returns', async () => {
  const up = await track(0);
  assert.equal(up.statusCode, 202);
  assert.equal(up.json().spooled, undefined);
  await redis.kill9();
  for (let n = 1; n <= 5; n++) {
    const res = await track(n);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().spooled, true);
    assert.match(res.json().ids[0], /^spool-/);
  }
  const down = await health();
  assert.equal(down.spool.state, 'spooling');
  assert.equal(down.spool.depth, 5);
  await redis.restart();
  await waitFor('spool replayed', async () => (await health()).spool?.depth === 0, 15_000);
  const raw = new Redis(redis.url);
  const entries = await raw.xrange(server.stream.keys.stream, '-', '+');
  raw.disconnect();
  // Each request is one entry; its event's page_url carries n, in the order posted.
  const urls = entries.map(([, f]) => JSON.parse(f[1]!).page_url);
  assert.deepEqual(
    urls,
    [0, 1, 2, 3, 4, 5].map((n) => `http://example.com/p/${n}`),
  );
  // The server's probe connection reconnects on its own backoff, after the spool replayed.
  const scrape = () => server.app.inject({ method: 'GET', url: '/metrics', headers: auth() });
  await waitFor('the probe back', async () => (await scrape()).statusCode === 200, 15_000);
  const metrics = await scrape();
  assert.equal(metrics.statusCode, 200);
  assert.match(
    metrics.body,
    new RegExp(`hopper_spool_depth\\{stream="${server.stream.name}",source="local"\\} 0`),
  );
  assert.match(metrics.body, /hopper_spool_replayed|hopper_spool_spooling\{[^}]*\} 0/);
  const after = await track(6);
  assert.equal(after.statusCode, 202);
  assert.equal(after.json().spooled, undefined);
});

test('TRACK_SPOOL_MAX_BYTES below 64 KiB is refused naming the variable', () => {
  assert.throws(
    () => loadConfig({ HOPPER_AUTH: 'off', TRACK_SPOOL_DIR: tmp, TRACK_SPOOL_MAX_BYTES: '10' }),
    (err: unknown) => err instanceof ValidationError && err.field === 'TRACK_SPOOL_MAX_BYTES',
  );
});
