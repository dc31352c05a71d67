import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventStream, postgresSink, StreamProcessor } from '../../src/stream/index.js';
import { FixtureProcess, killFixtures } from '../helpers/fixture-process.js';
import { type PostgresProcess, postgresUnavailable, startPostgres } from '../helpers/postgres-server.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, trackEvent, unique, waitFor } from './helpers.js';

requireRedisServer();
const FIXTURE = fileURLToPath(new URL('../fixtures/stream-processor.ts', import.meta.url));
let redis: RedisProcess;
let tmp: string;
/** Real PostgreSQL even without DATABASE_URL: a private server of this file's own. */
const noPrivatePg = postgresUnavailable();
let privatePg: PostgresProcess | undefined;

before(async () => {
  redis = await startRedis({ aof: true });
  tmp = mkdtempSync(join(tmpdir(), 'hopper-stream-crash-'));
  if (!noPrivatePg) privatePg = await startPostgres();
});
after(async () => {
  await killFixtures();
  await redis.stop();
  await privatePg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const targets: { name: string; url: () => string; skip?: string }[] = [
  { name: 'pglite', url: () => '' },
  { name: 'private pg', url: () => privatePg!.url, skip: noPrivatePg },
];
const shared = process.env.DATABASE_URL;
if (shared) targets.push({ name: 'pg', url: () => shared });

describe('kill -9 of a processor mid-batch', () => {
  for (const target of targets) {
    test(`every event lands in PostgreSQL exactly once (${target.name})`, {
      timeout: 60_000,
      skip: target.skip,
    }, async () => {
      const url = target.url();
      const name = unique('crash');
      const schema = unique('hopper_test');
      const table = url ? `${schema}.events` : 'events';
      const dataDir = join(tmp, name);
      const stream = new EventStream(name, { connection: redis.url, logger: quiet });
      const total = 200;
      // Half one entry per event, half ten appendBatch entries of ten events (as the track route writes).
      await stream.appendMany(Array.from({ length: 100 }, (_, i) => trackEvent(i)));
      for (let r = 0; r < 10; r++)
        await stream.appendBatch(Array.from({ length: 10 }, (_, j) => trackEvent(100 + r * 10 + j)));
      const child = new FixtureProcess(FIXTURE, {
        REDIS_URL: redis.url,
        STREAM: name,
        GROUP: 'db',
        TABLE: table,
        ...(url ? { DATABASE_URL: url } : { PGLITE_DIR: dataDir, DATABASE_URL: '' }),
        // Written, then stuck before the ack: the kill lands between commit and acknowledgement.
        SINK_DELAY_MS: '60000',
        BATCH_SIZE: '25',
        CONSUMERS: '3',
      });
      await child.waitForLine((l) => l.startsWith('written'), 'a written batch', 45_000);
      await child.kill9();
      assert.ok((await stream.info()).groups[0]!.pending > 0, 'the dead process left entries pending');

      const sink = postgresSink({ databaseUrl: url, dataDir, table });
      const rescuer = new StreamProcessor(stream, 'db', {
        connection: redis.url,
        sink,
        claimIdle: 500,
        flushInterval: 50,
        batchSize: 50,
        consumerTimeout: 1000,
        logger: quiet,
      });
      try {
        await waitFor(
          'every entry acknowledged',
          async () => {
            const g = (await stream.info()).groups[0]!;
            return g.pending === 0 && g.lag === 0;
          },
          30_000,
        );
        const [row] = await sink.query<{ rows: number; distinct: number }>(
          `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS distinct FROM ${sink.table}`,
        );
        assert.deepEqual(row, { rows: total, distinct: total });
        assert.equal((await stream.info()).dead, 0);
      } finally {
        await rescuer.close();
        if (url) await sink.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await sink.close();
        await stream.close();
      }
    });
  }
});
