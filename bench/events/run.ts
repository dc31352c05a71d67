/**
 * `npm run bench:events`: what job events (QueueEvents, docs/events.md) cost the hot path,
 * and what they hold in Redis, against a redis-server it starts (AOF off).
 *
 * 1. Processing throughput with events on (the default) and off (`setEvents({ maxLen: 0 })`):
 *    the same no-op jobs, pre-added, processed at concurrency 100 and 1, rounds alternating
 *    on and off in one run (machine load hits both alike) after a warm-up round each; jobs/s,
 *    Node CPU and Redis CPU µs per job, medians, and the on/off ratio.
 * 2. The events stream's memory after the same jobs return a 200-byte result, beside BullMQ
 *    (whose events stream stores every return value), same job count, both with their
 *    default caps; and the per-job producer cost is covered by bench:queue.
 * Writes the `events` section of docs/benchmarks.md. Env: BENCH_JOBS (100,000), BENCH_ROUNDS (4).
 */
import { loadavg } from 'node:os';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Queue, Worker } from '../../src/index.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { type RedisServer, startRedis } from '../redis.js';
import { median } from '../stats.js';

const envInt = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};
const JOBS = envInt('BENCH_JOBS', 100_000);
const ROUNDS = envInt('BENCH_ROUNDS', 4);
const RESULT = 'r'.repeat(200);

interface Round {
  jobsPerSecond: number;
  nodeUs: number;
  redisUs: number;
  /** Redis time inside scripts (EVALSHA) and of the events XADDs within them, µs per job (commandstats: load-independent). */
  scriptUs: number;
  xaddUs: number;
  /** Script calls (round trips carrying the work) and events XADDs per job: counted, so load-independent. */
  scriptCalls: number;
  xaddCalls: number;
}

/** usec spent per command since the last CONFIG RESETSTAT (commands run by scripts are counted too). */
async function commandUsec(server: RedisServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await server.admin.info('commandstats')).matchAll(
    /cmdstat_(\w+):calls=(\d+),usec=(\d+)/g,
  )) {
    out[m[1]!] = Number(m[3]);
    out[`${m[1]!}#calls`] = Number(m[2]);
  }
  return out;
}

async function redisCpuSeconds(server: RedisServer): Promise<number> {
  const info = await server.admin.info('cpu');
  const f = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return f('used_cpu_user') + f('used_cpu_sys');
}

async function processRound(
  server: RedisServer,
  events: boolean,
  concurrency: number,
  prefetch: number | undefined,
  jobs: number,
  tag: string,
) {
  const name = `bench-events-${tag}`;
  const queue = new Queue(name, { connection: server.url, metrics: false });
  if (!events) await queue.setEvents({ maxLen: 0 });
  for (let i = 0; i < jobs; i += 1000)
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({ name: 'j', data: i + j })),
    );
  let done = 0;
  let resolve!: () => void;
  const finished = new Promise<void>((r) => {
    resolve = r;
  });
  await server.admin.config('RESETSTAT');
  const redisBefore = await redisCpuSeconds(server);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = new Worker(name, () => null, {
    connection: server.url,
    concurrency,
    ...(prefetch === undefined ? {} : { prefetch }),
    metrics: false,
    schedules: false,
  });
  worker.on('completed', () => {
    if (++done === jobs) resolve();
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const redisUsed = (await redisCpuSeconds(server)) - redisBefore;
  const usec = await commandUsec(server);
  await worker.close();
  const streamLen = await server.admin.xlen(queue.keys.events);
  if (events === (streamLen === 0))
    throw new Error(`events ${events ? 'on' : 'off'} but stream holds ${streamLen}`);
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    jobsPerSecond: jobs / seconds,
    nodeUs: (used.user + used.system) / jobs,
    redisUs: (redisUsed * 1e6) / jobs,
    scriptUs: ((usec.evalsha ?? 0) + (usec.eval ?? 0)) / jobs,
    xaddUs: (usec.xadd ?? 0) / jobs,
    scriptCalls: ((usec['evalsha#calls'] ?? 0) + (usec['eval#calls'] ?? 0)) / jobs,
    xaddCalls: (usec['xadd#calls'] ?? 0) / jobs,
  } satisfies Round;
}

async function hopperStreamBytes(
  server: RedisServer,
  jobs: number,
): Promise<{ bytes: number; entries: number }> {
  await server.flushAll();
  const queue = new Queue('mem-hopper', { connection: server.url, metrics: false });
  for (let i = 0; i < jobs; i += 1000)
    await queue.addBulk(Array.from({ length: Math.min(1000, jobs - i) }, () => ({ name: 'j', data: {} })));
  let done = 0;
  const worker = new Worker('mem-hopper', () => RESULT, {
    connection: server.url,
    concurrency: 100,
    metrics: false,
    schedules: false,
  });
  await new Promise<void>((r) => worker.on('completed', () => ++done === jobs && r()));
  await worker.close();
  const bytes = Number((await server.admin.call('MEMORY', 'USAGE', queue.keys.events, 'SAMPLES', '0')) ?? 0);
  const entries = await server.admin.xlen(queue.keys.events);
  await queue.close();
  return { bytes, entries };
}

async function bullStreamBytes(
  server: RedisServer,
  jobs: number,
): Promise<{ bytes: number; entries: number }> {
  await server.flushAll();
  const connection = { url: server.url };
  const queue = new BullQueue('mem-bull', { connection });
  for (let i = 0; i < jobs; i += 1000)
    await queue.addBulk(Array.from({ length: Math.min(1000, jobs - i) }, () => ({ name: 'j', data: {} })));
  let done = 0;
  const worker = new BullWorker('mem-bull', async () => RESULT, { connection, concurrency: 100 });
  await new Promise<void>((r) => worker.on('completed', () => ++done === jobs && r()));
  await worker.close();
  const key = 'bull:mem-bull:events';
  const bytes = Number((await server.admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const entries = await server.admin.xlen(key);
  await queue.close();
  return { bytes, entries };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const server = await startRedis({ aof: false });
  try {
    const rows: string[] = [];
    // c=1 without prefetch: a fetch and a settle per job, each with its own event entry (the worst case).
    for (const [concurrency, prefetch, jobs] of [
      [100, undefined, JOBS],
      [1, 0, Math.max(1000, Math.round(JOBS / 20))],
    ] as const) {
      const on: Round[] = [];
      const off: Round[] = [];
      for (let round = 0; round <= ROUNDS; round++) {
        for (const events of round % 2 === 0 ? [true, false] : [false, true]) {
          await server.flushAll();
          const r = await processRound(
            server,
            events,
            concurrency,
            prefetch,
            jobs,
            `${concurrency}-${round}`,
          );
          console.error(
            `c=${concurrency} round ${round}${round === 0 ? ' (warm-up)' : ''} events ${events ? 'on ' : 'off'}: ${fmt(r.jobsPerSecond)} jobs/s, Node ${r.nodeUs.toFixed(1)} µs, Redis ${r.redisUs.toFixed(1)} µs per job (scripts ${r.scriptUs.toFixed(2)}, XADD ${r.xaddUs.toFixed(2)})`,
          );
          if (round > 0) (events ? on : off).push(r);
        }
      }
      const m = (rs: Round[], k: keyof Round) => median(rs.map((r) => r[k]));
      // The median of each round's on/off ratio: a round's two runs share the machine's load of the moment.
      const ratio = median(on.map((r, i) => r.jobsPerSecond / off[i]!.jobsPerSecond));
      rows.push(
        `| ${concurrency}${prefetch === 0 ? ', prefetch 0' : ''} | ${fmt(jobs)} | ${fmt(m(off, 'jobsPerSecond'))} | ${fmt(m(on, 'jobsPerSecond'))} | **${(ratio * 100).toFixed(0)}%** | ${m(off, 'nodeUs').toFixed(1)} / ${m(on, 'nodeUs').toFixed(1)} | ${m(off, 'redisUs').toFixed(1)} / ${m(on, 'redisUs').toFixed(1)} | ${m(off, 'scriptUs').toFixed(2)} / ${m(on, 'scriptUs').toFixed(2)} | ${m(on, 'xaddUs').toFixed(2)} | ${m(off, 'scriptCalls').toFixed(2)} / ${m(on, 'scriptCalls').toFixed(2)} | ${m(on, 'xaddCalls').toFixed(2)} |`,
      );
    }
    const memJobs = 20_000;
    const hop = await hopperStreamBytes(server, memJobs);
    const bull = await bullStreamBytes(server, memJobs);
    console.error(
      `events stream after ${memJobs} jobs: Hopper ${hop.bytes} B (${hop.entries} entries), BullMQ ${bull.bytes} B (${bull.entries} entries)`,
    );
    const body = [
      '## Job events (QueueEvents)',
      '',
      `\`npm run bench:events\`, ${new Date().toISOString().slice(0, 10)}, ${describeMachine(server.version)} (AOF off).`,
      `No-op jobs pre-added, processed by one in-process worker; rounds alternate events on (default) and off; medians of ${ROUNDS} rounds each after a warm-up; on / off is the median of the rounds' own ratios (a round's two runs share the machine's load of the moment). Load average (1 min) at the start ${loadAtStart.toFixed(1)}, when written ${loadavg()[0]!.toFixed(1)}${loadavg()[0]! > 4 ? ' (a loaded machine: shared by other jobs, so the jobs/s columns and the ratio carry that noise; the counted columns do not)' : ''}.`,
      '',
      '| concurrency | jobs | events off, jobs/s | events on, jobs/s | on / off | Node µs per job off / on | Redis CPU µs per job off / on | Redis script time µs per job off / on | of which events XADD | script calls per job off / on | events XADDs per job |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      "Redis script time is INFO commandstats' EVALSHA usec per job (wall time inside Redis, stretched by the machine's load too); the last column is the events' XADDs within it, the cost events add to each job: about 1% of script time at concurrency 100 (one entry per batch), about 3 to 4% with one job per call.",
      '',
      "What events cost per job at concurrency 1 (counted with INFO commandstats, `bench/events/calls.ts` lists every command): the same script calls per job on and off (a fetch and a settle: events add no round trip and no Node work), and inside them two XADDs per job (one `active` entry in the fetch, one `completed` entry in the settle), appended by the scripts themselves (`src/queue/scripts/includes/events.lua`, `MAXLEN ~`, the cap read with the settings the script already reads). Every other command count is identical. So at c=1 events cost two small XADDs, a few µs of Redis time per job against the 100 to 200 µs the two script calls take; a throughput gap larger than a few % at c=1 is the noise of the moment on a shared machine (this table's jobs/s columns at c=1 swing by 2x between rounds under load), which is why the counted columns are the ones to read.",
      '',
      `The events stream after ${fmt(memJobs)} jobs that each return a 200-byte result, default caps:`,
      '',
      '| | stream entries | stream bytes (MEMORY USAGE) | ratio |',
      '|---|---:|---:|---:|',
      `| Hopper | ${fmt(hop.entries)} | ${fmt(hop.bytes)} | 1 |`,
      `| BullMQ | ${fmt(bull.entries)} | ${fmt(bull.bytes)} | ${(bull.bytes / Math.max(1, hop.bytes)).toFixed(1)}x |`,
      '',
      'Hopper writes one entry per event per script call (a fetch or settle of 100 jobs: one entry of 100 ids) and never the result; BullMQ writes an entry per job per event with its return value.',
    ].join('\n');
    console.log(body);
    writeSection('events', body);
  } finally {
    await server.stop();
  }
}

await main();
