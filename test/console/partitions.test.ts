import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { PrometheusExporter } from '../../src/entry/prometheus.js';
import { type Job, Queue, Worker } from '../../src/index.js';
import { dayOf } from '../../src/metrics/keys.js';
import { partitionOfGroup, partitionOfId } from '../../src/queue/partitions/layout.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';
import { ADMIN, call, type Login, login, startConsole } from './fixture.js';

/**
 * A partitioned queue (3 partitions) seen through the console: every view covers every
 * partition. Jobs of partition 0 run at once, those of partitions 1 and 2 take 40 ms and
 * partition 2's fail, so a view that reads partition 0 only shows no failure and no run time.
 */
const fx = new QueueFixture();
const N = 3;
let app: FastifyInstance;
let base: string;
let admin: Login;
let q: Queue;
/** Jobs blocked in a handler until released: one in each partition, held by the workers. */
let release: () => void = () => {};
const workers: Worker<{ hold?: boolean }>[] = [];

const partOf = (id: string) => partitionOfId(id, N);

describe('console: a partitioned queue is one queue in every view', () => {
  before(async () => {
    ({ app, base } = await startConsole(fx.url, { HOPPER_DASHBOARD_INTERVAL: '250' }));
    admin = await login(base, ADMIN);
    q = fx.track(new Queue(uniqueName('console-parts'), { connection: fx.connection, partitions: N }));
    const held = new Promise<void>((r) => {
      release = r;
    });
    const handler = async (job: Job<{ hold?: boolean }>): Promise<unknown> => {
      if (job.data.hold) return held;
      if (partOf(job.id) === 0) return 'fast';
      await sleep(40);
      if (partOf(job.id) === 2) throw new Error('slow and failing');
      return 'slow';
    };
    // Two partitioned Workers in this process: each is one row, with its partitions.
    for (let i = 0; i < 2; i++)
      workers.push(
        fx.track(
          new Worker(q.name, handler, {
            connection: fx.connection,
            logger: quiet,
            partitions: N,
            concurrency: 4,
          }),
        ),
      );
    await q.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'job', data: { i } })));
    await waitFor(
      '30 jobs finished',
      async () => {
        const c = await q.getCounts();
        return c.completed + c.failed === 30;
      },
      15_000,
    );
    // Metrics are flushed about once a second.
    await waitFor(
      'metrics flushed',
      async () => {
        const m = await q.getMetrics({ minutes: 60 });
        return m.completedJobs === 20 && m.failedJobs === 10;
      },
      15_000,
    );
    const holds = await q.addBulk(Array.from({ length: N }, () => ({ name: 'hold', data: { hold: true } })));
    assert.deepEqual(holds.map(partOf).sort(), [0, 1, 2], 'one held job in each partition');
    await waitFor('the held jobs running', async () => (await q.getCounts()).active === N, 15_000);
  });

  after(async () => {
    release();
    await app.close();
  });

  test('charts sum every partition: counts add up, percentiles are those of all jobs', async () => {
    const hour = (await call(base, admin, 'GET', `queues/${q.name}/chart?range=hour`)).body.points;
    const sum = (pts: { completed: number; failed: number }[], k: 'completed' | 'failed') =>
      pts.reduce((a, p) => a + p[k], 0);
    assert.equal(sum(hour, 'completed'), 20, 'partition 0 and 1 completions');
    assert.equal(sum(hour, 'failed'), 10, "partition 2's failures");
    const slowest = Math.max(...hour.map((p: { run: { p99: number } }) => p.run.p99));
    assert.ok(slowest >= 30, `the slow partitions' run time shows (p99 ${slowest} ms)`);

    // The week's last point is today's day hash of every partition: the same figures as
    // Queue.getMetrics, which sums the partitions' histograms (exact percentiles).
    const today = dayOf(Date.now());
    const [week, m] = await Promise.all([
      call(base, admin, 'GET', `queues/${q.name}/chart?range=week`),
      q.getMetrics({ days: 1 }),
    ]);
    if (dayOf(Date.now()) === today) {
      const last = week.body.points.at(-1);
      assert.equal(last.completed, m.completedJobs);
      assert.equal(last.failed, m.failedJobs);
      assert.deepEqual(last.run, {
        p50: m.execution.p50,
        p95: m.execution.p95,
        p99: m.execution.p99,
      });
      assert.deepEqual(last.wait, { p50: m.wait.p50, p95: m.wait.p95, p99: m.wait.p99 });
    }
  });

  test('the overview row says the queue is partitioned (the queue page shows it)', async () => {
    const o = await call(base, admin, 'GET', 'overview');
    const row = o.body.queues.find((x: { name: string }) => x.name === q.name);
    assert.equal(row.partitions, N);
    assert.equal(row.counts.completed + row.counts.failed, 30);
  });

  test('workers: one row per partitioned Worker, leasing every partition, holding its jobs in all of them', async () => {
    // Each partition's Worker records its lease with its first fetch: all of them within moments.
    const r = (await waitFor(
      'both Workers leasing every partition',
      async () => {
        const got = await call(base, admin, 'GET', `queues/${q.name}/workers`);
        const leased = got.body.workers?.map((w: { partitions: { leased: number } }) => w.partitions?.leased);
        return leased?.length === 2 && leased.every((n: number) => n === N) ? got : undefined;
      },
      15_000,
    ))!;
    assert.equal(r.status, 200);
    const rows = r.body.workers;
    assert.equal(rows.length, 2, 'two Workers, not one per partition');
    assert.deepEqual(
      rows.map((w: { id: string }) => w.id).sort(),
      workers.map((w) => w.id.slice(-8)).sort(),
      "each row is a Worker's own id",
    );
    for (const w of rows) {
      assert.deepEqual(w.partitions, { leased: N, of: N });
      assert.equal(w.alive, true);
      assert.equal(w.pid, process.pid);
    }
    const holding = rows.reduce((a: number, w: { holding: number }) => a + w.holding, 0);
    assert.equal(holding, N, 'the held job of every partition is counted');

    const all = await call(base, admin, 'GET', 'workers');
    const mine = all.body.workers.filter((w: { queue: string }) => w.queue === q.name);
    assert.equal(mine.length, 2);
    assert.deepEqual(mine[0].partitions, { leased: N, of: N });
  });

  test('groups and search cover every partition; schedules (partition 0) are listed', async () => {
    const g = fx.track(
      new Queue(uniqueName('console-parts-groups'), { connection: fx.connection, partitions: N }),
    );
    const groups = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    assert.ok(new Set(groups.map((x) => partitionOfGroup(x, N))).size === N, 'groups in every partition');
    await g.addBulk(groups.map((group) => ({ name: `special-${group}`, data: { group }, opts: { group } })));
    const listed = await call(base, admin, 'GET', `queues/${g.name}/groups`);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.groups.map((x: { name: string; waiting: number }) => [x.name, x.waiting]),
      groups.map((x) => [x, 1]),
    );
    assert.equal(listed.body.cursor, null, 'every partition scanned to its end');
    assert.equal((await call(base, admin, 'GET', `queues/${g.name}/groups?cursor=1`)).status, 400);

    const found: string[] = [];
    let cursor: string | null | undefined;
    do {
      const s = await call(base, admin, 'POST', `queues/${g.name}/search`, {
        by: 'name',
        text: 'special',
        cursor,
      });
      assert.equal(s.status, 200);
      assert.equal(s.body.total, groups.length);
      found.push(...s.body.jobs.map((j: { name: string }) => j.name));
      cursor = s.body.cursor;
    } while (cursor);
    assert.deepEqual(found.sort(), groups.map((x) => `special-${x}`).sort());
    const ids = (await g.getJobs('waiting', 0, -1)).map((j) => j.id);
    const far = ids.find((id) => partOf(id) > 0)!;
    const byId = await call(base, admin, 'POST', `queues/${g.name}/search`, { by: 'id', text: far });
    assert.deepEqual(
      byId.body.jobs.map((j: { id: string }) => j.id),
      [far],
    );

    await g.schedule('tick', { every: 3600_000 }, { name: 'tick' });
    const sched = await call(base, admin, 'GET', `queues/${g.name}/schedules`);
    assert.deepEqual(
      sched.body.schedules.map((s: { id: string }) => s.id),
      ['tick'],
    );
  });

  test('Prometheus reports a partitioned queue once, summed over its partitions', async () => {
    const exporter = new PrometheusExporter(
      { client: fx.raw, prefix: 'hopper', queues: async () => [q.name], streams: [] },
      { processMetrics: false },
    );
    const text = await exporter.render();
    const value = (metric: string, labels: string) =>
      Number(new RegExp(`^${metric}\\{${labels}[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('hopper_jobs_completed_total', `queue="${q.name}"`), 20);
    assert.equal(value('hopper_jobs_failed_total', `queue="${q.name}"`), 10);
    assert.equal(value('hopper_jobs', `queue="${q.name}",state="active"`), N);
    assert.equal(value('hopper_job_execution_seconds_count', `queue="${q.name}"`), 30);
  });

  test('the chart of a partitioned queue is read once per interval whatever the number of viewers', async () => {
    release();
    await Promise.all(workers.map((w) => w.close()));
    const hgetalls = async () =>
      Number(/cmdstat_hgetall:calls=(\d+)/.exec(await fx.raw.info('commandstats'))?.[1] ?? 0);
    // A range not read yet in this file: the first request reads, the others share it.
    const before = await hgetalls();
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => call(base, admin, 'GET', `queues/${q.name}/chart?range=day`)),
    );
    for (const r of replies) assert.equal(r.status, 200);
    const n = (await hgetalls()) - before;
    // 1,440 minute hashes per partition, read once for the 10 viewers (plus at most a few other
    // HGETALLs: the registry read carries the partition counts).
    assert.ok(n >= 1440 * N && n < 1440 * N + 10, `${n} HGETALLs`);
  });
});
