import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Collector } from '../../src/cli/monitor/collect.js';
import { render } from '../../src/cli/monitor/render.js';
import { hopperConsole } from '../../src/console/index.js';
import { EventStream, Queue } from '../../src/index.js';
import { PrometheusExporter } from '../../src/metrics/prometheus.js';
import { DepthWatch, readStatus } from '../../src/server/status.js';
import { SpoolLog } from '../../src/spool/log.js';
import { validateSpoolOptions } from '../../src/spool/options.js';
import { readSpoolReports, SpoolReporter, spoolReportsKey } from '../../src/spool/report.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';

requireRedisServer();

let redis: RedisProcess;
let client: Redis;
let tmp: string;

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  tmp = mkdtempSync(join(tmpdir(), 'hopper-spool-vis-'));
});

after(async () => {
  client?.disconnect();
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/**
 * A spool directory holding one intact record that does not decode: a producer opening
 * it keeps it (depth 1, retried every 2 s) while Redis answers, so its spool stays
 * visible for as long as the test looks. `ageMs` back-dates the record.
 */
function spoolWithStuckRecord(label: string, ageMs = 0): string {
  const dir = join(tmp, uniqueName(label));
  const log = new SpoolLog(validateSpoolOptions('spool', { dir }));
  log.append([{ run: 'oldrun01', seq: 1, ts: Date.now() - ageMs, body: 'not json' }]);
  log.close();
  return dir;
}

describe('spool visibility', () => {
  test('the spool emits stats as its depth changes: up while spooling, 0 once replayed', async () => {
    const dir = join(tmp, uniqueName('events'));
    // Nothing listens on port 1: adds are spooled, then the spool is reopened against Redis.
    const down = new Queue(uniqueName('ev'), {
      connection: 'redis://127.0.0.1:1',
      logger: quiet,
      spool: { dir, timeout: 100 },
    });
    const depths: number[] = [];
    down.spool!.on('stats', (s) => depths.push(s.depth));
    await Promise.all([down.add('a', {}), down.add('b', {})]);
    await down.add('c', {});
    await down.close();
    assert.ok(depths.length >= 2 && depths.at(-1) === 2 + 1, `depths while spooling: ${depths}`);

    const up = new Queue(down.name, { connection: redis.url, logger: quiet, spool: { dir } });
    const after: number[] = [];
    up.spool!.on('stats', (s) => after.push(s.depth));
    await waitFor('drained', () => after.at(-1) === 0, 10_000);
    assert.equal((await up.getCounts()).waiting, 3);
    await up.obliterate({ force: true });
    await up.close();
  });

  test("adds through the spool's direct path emit the 'added' event, as without a spool", async () => {
    const q = new Queue(uniqueName('added'), {
      connection: redis.url,
      logger: quiet,
      spool: { dir: join(tmp, uniqueName('added')) },
    });
    const ids = await Promise.all([q.add('a', {}), q.add('b', {}), q.add('c', {}, { priority: 2 })]);
    const entries = await client.xrange(q.keys.events, '-', '+');
    const added = entries
      .map(([, f]) => f)
      .filter((f) => f[1] === 'added')
      .flatMap((f) => f[3]!.split('\x1e'));
    assert.deepEqual(added.sort(), [...ids].sort());
    await q.obliterate({ force: true });
    await q.close();
  });

  test('a producer publishes its spool to Redis; the monitor, /metrics and the dashboard show it', async () => {
    const name = uniqueName('pub');
    const q = new Queue(name, {
      connection: redis.url,
      logger: quiet,
      spool: { dir: spoolWithStuckRecord('pub', 3000) },
    });
    await q.add('fresh', {}); // registers the queue; goes behind the stuck record
    const reports = (await waitFor(
      'a report',
      async () => {
        const r = await readSpoolReports(client, q.keys.tag);
        return r.length > 0 ? r : undefined;
      },
      10_000,
    ))!;
    assert.equal(reports[0]!.pid, process.pid);
    assert.equal(reports[0]!.depth, q.spoolStats()!.depth);
    assert.ok(reports[0]!.depth >= 1);
    assert.ok(Date.now() - reports[0]!.oldest! >= 3000, 'the oldest record keeps its add time');

    // hopper monitor
    const collector = new Collector(client, { url: redis.url } as never, 'hopper', [name]);
    const snap = await collector.snapshot();
    const lines = render({ snapshot: snap, before: new Map(), trendSpan: 0, label: 'test', intervalMs: 0 });
    const row = lines.find((l) => l.startsWith(name) && l.includes(`:${process.pid}`));
    assert.ok(row, `a spool row in:\n${lines.join('\n')}`);
    assert.match(row!, /spooling\s+\d+\s+\d+ KiB\s+\d+\.\d s$/);
    await collector.close();

    // Prometheus, from Redis (any process)
    const exporter = new PrometheusExporter(
      { client, prefix: 'hopper', queues: async () => [name], streams: [] },
      { processMetrics: false },
    );
    const text = await exporter.render();
    assert.match(text, new RegExp(`hopper_producer_spool_depth\\{queue="${name}",source="cluster"\\} [1-9]`));
    const age = Number(
      new RegExp(
        `hopper_producer_spool_oldest_age_seconds\\{queue="${name}",source="cluster"\\} ([\\d.]+)`,
      ).exec(text)?.[1],
    );
    assert.ok(age >= 3, `oldest age ${age} s`);

    // The dashboard's read
    const app = Fastify();
    await app.register(hopperConsole({ connection: redis.url, auth: false, logger: quiet }), {
      prefix: '/dashboard',
    });
    const res = await app.inject({ method: 'GET', url: '/dashboard/api/spools' });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { spools: { queue: string; depth: number; ageMs: number }[] };
    const mine = body.spools.find((s) => s.queue === name);
    assert.ok(mine && mine.depth >= 1 && mine.ageMs >= 3000, JSON.stringify(body));
    await app.close();

    await q.obliterate({ force: true });
    await q.close();
  });

  test('a drained spool deletes its report; a dead producer’s report goes stale and is dropped', async () => {
    const tag = `{hopper:${uniqueName('stale')}}`;
    const key = spoolReportsKey(tag);
    // A report 10 minutes old, as a killed producer leaves it.
    await client.hset(
      key,
      'deadhost:1:run',
      JSON.stringify({ at: Date.now() - 600_000, depth: 5, oldest: 1 }),
    );
    let depth = 3;
    const fake = {
      run: 'liverun1',
      stats: () => ({
        depth,
        bytes: 10,
        oldest: Date.now() - 1000,
        corrupt: 0,
        state: 'direct' as const,
        ageMs: 1000,
        replayed: 0,
        lastError: null,
      }),
      on: () => undefined,
    };
    const reporter = new SpoolReporter(client, key, fake, '/x');
    assert.equal(await reporter.report(), true);
    assert.deepEqual(await client.hkeys(key), [
      `${(await import('node:os')).hostname()}:${process.pid}:liverun1`,
    ]);
    assert.deepEqual(
      (await readSpoolReports(client, tag)).map((r) => r.depth),
      [3],
    );
    depth = 0;
    assert.equal(await reporter.report(), true);
    assert.equal(
      await client.exists(key),
      0,
      'the drained producer removed its field (and the hash went with it)',
    );
    assert.equal(await reporter.report(), false, 'nothing more to say while empty');
    reporter.stop();
  });

  test('/health: the spool with its age; degraded (a warning) past a minute', async () => {
    const stream = new EventStream(uniqueName('health'), {
      connection: redis.url,
      logger: quiet,
      spool: { dir: spoolWithStuckRecord('health', 120_000) },
    });
    const body = await readStatus({
      probe: client,
      stream,
      group: 'g',
      sink: undefined,
      watch: new DepthWatch(1000, quiet),
    });
    assert.equal(body.spool?.depth, 1);
    assert.ok(body.spool!.age_ms >= 120_000);
    assert.equal(body.spool?.degraded, true);
    assert.ok(
      body.warnings?.some((w) => w.startsWith('spool degraded: 1 calls held')),
      String(body.warnings),
    );
    await stream.close();
  });
});
