/**
 * `npm run soak:spool`: Redis stopped (SIGKILL, AOF on) for 30 s while 4 producers with a
 * spool add 10,000 jobs at a steady pace; once Redis is back every spool replays, then one
 * worker (concurrency 1) runs every job. Checks each job ran exactly once and, per producer,
 * in the order added. Prints the figures (docs/spool.md quotes a run). Env: SOAK_JOBS
 * (10,000), SOAK_OUTAGE_S (30), SOAK_PRODUCERS (4).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Queue, Worker } from '../../src/index.js';
import { startRedis } from '../../test/helpers/redis-server.js';

const JOBS = Number(process.env.SOAK_JOBS ?? 10_000);
const OUTAGE_MS = Number(process.env.SOAK_OUTAGE_S ?? 30) * 1000;
const PRODUCERS = Number(process.env.SOAK_PRODUCERS ?? 4);
const quiet = pino({ level: 'silent' });
const per = Math.ceil(JOBS / PRODUCERS);
// Spread the adds over the outage plus 10 s on either side.
const paceMs = (OUTAGE_MS + 20_000) / (per / 10);

const redis = await startRedis({ aof: true, args: ['--appendfsync', 'always'] });
const tmp = mkdtempSync(join(tmpdir(), 'hopper-soak-spool-'));
const name = `soak-spool-${process.pid}`;
try {
  const queues = Array.from(
    { length: PRODUCERS },
    (_, p) =>
      new Queue(name, {
        connection: redis.url,
        logger: quiet,
        spool: { dir: join(tmp, `p${p}`), fsync: 'interval', timeout: 500 },
      }),
  );
  let maxDepth = 0;
  let refused = 0;
  const started = Date.now();
  const produce = async (q: Queue, p: number) => {
    for (let n = 0; n < per; n += 10) {
      const adds = [];
      for (let i = n; i < Math.min(n + 10, per); i++)
        adds.push(q.add('j', { p, n: i }).catch(() => void refused++));
      await Promise.all(adds);
      maxDepth = Math.max(maxDepth, q.spoolStats()!.depth);
      await sleep(paceMs);
    }
  };
  const producing = Promise.all(queues.map(produce));
  await sleep(10_000);
  await redis.kill9();
  console.log(`Redis killed at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await sleep(OUTAGE_MS);
  await redis.restart();
  const back = Date.now();
  console.log(`Redis back at ${((back - started) / 1000).toFixed(1)} s`);
  await producing;
  for (const q of queues)
    while (q.spoolStats()!.depth > 0 || q.spoolStats()!.state !== 'direct') await sleep(20);
  const drainedMs = Date.now() - back;
  const replayed = queues.reduce((n, q) => n + q.spoolStats()!.replayed, 0);

  const ran: { p: number; n: number }[] = [];
  const worker = new Worker<{ p: number; n: number }>(name, async (job) => void ran.push(job.data), {
    connection: redis.url,
    concurrency: 1,
    logger: quiet,
  });
  const total = per * PRODUCERS;
  while (ran.length < total) await sleep(50);
  await sleep(1000); // duplicates would arrive here
  await worker.close();

  const seen = new Set(ran.map((d) => `${d.p}:${d.n}`));
  let outOfOrder = 0;
  for (let p = 0; p < PRODUCERS; p++) {
    const ns = ran.filter((d) => d.p === p).map((d) => d.n);
    for (let i = 1; i < ns.length; i++) if (ns[i]! <= ns[i - 1]!) outOfOrder++;
  }
  const figures = {
    jobs: total,
    producers: PRODUCERS,
    outage_s: OUTAGE_MS / 1000,
    refused,
    max_spool_depth_per_producer: maxDepth,
    replayed_from_spools: replayed,
    spools_drained_s_after_redis_back: +(drainedMs / 1000).toFixed(1),
    ran: ran.length,
    duplicates: ran.length - seen.size,
    missing: total - seen.size,
    out_of_order: outOfOrder,
  };
  console.log(JSON.stringify(figures, null, 2));
  await Promise.all(queues.map((q) => q.close()));
  const ok = figures.duplicates === 0 && figures.missing === 0 && outOfOrder === 0 && refused === 0;
  console.log(ok ? 'PASS: every job ran exactly once, in order per producer' : 'FAIL');
  process.exitCode = ok ? 0 : 1;
} finally {
  await redis.stop();
  rmSync(tmp, { recursive: true, force: true });
}
