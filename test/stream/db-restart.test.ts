import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type HopperServer } from '../../src/server/index.js';
import { type PostgresSink, postgresSink } from '../../src/stream/index.js';
import { type PostgresProcess, postgresUnavailable, startPostgres } from '../helpers/postgres-server.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { auth, testConfig, trackBody } from '../server/helpers.js';
import { quiet, waitFor } from './helpers.js';

/**
 * The database really stops: a private PostgreSQL (never the shared one) is killed with
 * SIGKILL while events keep arriving over HTTP, then restarted. Every event answered 202
 * must end up in the table exactly once, none dead-lettered, and health says 503 meanwhile.
 */
requireRedisServer();
const skip = postgresUnavailable();
let redis: RedisProcess | undefined;
let pgServer: PostgresProcess | undefined;

before(async () => {
  if (skip) return;
  redis = await startRedis();
  pgServer = await startPostgres();
});
after(async () => {
  await pgServer?.stop();
  await redis?.stop();
});

/** Posts a 5-event body every few ms until stopped; keeps the ids of every 202. */
function appender(server: HopperServer) {
  const ids: string[] = [];
  const failures: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const r = await server.app.inject({
        method: 'POST',
        url: '/api/v1/track',
        headers: auth(),
        payload: trackBody(5),
      });
      if (r.statusCode === 202) ids.push(...(r.json() as { ids: string[] }).ids);
      else failures.push(`${r.statusCode} ${r.body}`);
      await sleep(5);
    }
  })();
  return {
    ids,
    failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function rowCount(sink: PostgresSink): Promise<number> {
  const [row] = await sink.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sink.table}`);
  return row!.n;
}

test('PostgreSQL killed (SIGKILL) mid-flow and restarted: every accepted event lands exactly once', {
  skip,
  timeout: 120_000,
}, async () => {
  const sink = postgresSink({ databaseUrl: pgServer!.url, table: 'events', poolSize: 4 });
  const server = createServer(testConfig(redis!.url, { workerCount: 3, batchSize: 50 }), {
    logger: quiet,
    sink,
  });
  await server.ready();
  const load = appender(server);
  try {
    await waitFor('rows written before the crash', async () => (await rowCount(sink)) > 0, 20_000);

    await pgServer!.kill9();
    const acceptedAtCrash = load.ids.length;
    await waitFor(
      'health 503 with the database down',
      async () => {
        const h = await server.app.inject({ method: 'GET', url: '/health' });
        return h.statusCode === 503 && h.json().database === 'unhealthy' && h.json().redis === 'healthy';
      },
      15_000,
    );
    // Ingestion goes on without the database: events pile up in Redis.
    await sleep(1500);
    assert.ok(load.ids.length > acceptedAtCrash + 50, 'events kept being accepted while PostgreSQL was down');
    const down = (await server.app.inject({ method: 'GET', url: '/health' })).json();
    assert.equal(down.database, 'unhealthy');
    assert.ok(down.queue_depth > 0, `events wait in the stream (depth ${down.queue_depth})`);

    await pgServer!.restart();
    await sleep(1000);
    await load.stop();
    assert.deepEqual(load.failures, [], 'no request failed: Redis was up all along');

    const info = await waitFor(
      'every entry written and acknowledged',
      async () => {
        const i = await server.stream.info();
        const g = i.groups[0];
        return g && g.pending === 0 && g.lag === 0 ? i : undefined;
      },
      60_000,
    );
    assert.equal(info!.dead, 0, 'an outage dead-letters nothing');
    const rows = await sink.query<{ id: string }>(`SELECT id FROM ${sink.table}`);
    assert.equal(rows.length, load.ids.length, 'one row per accepted event');
    assert.deepEqual(
      new Set(rows.map((r) => r.id)),
      new Set(load.ids),
      'the rows are exactly the accepted ids',
    );
    const health = await server.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200, health.body);
  } finally {
    await load.stop();
    await server.close();
  }
});
