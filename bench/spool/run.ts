/**
 * `npm run bench:spool`, the producer spool's costs, against a redis-server it starts:
 *
 * 1. add() throughput (a window of 1,000 adds in flight) and latency (one add at a time,
 *    p50/p99) with the spool off, with it on while Redis answers, and BullMQ's Queue.add
 *    beside them; rounds alternate between the modes so machine load hits all alike.
 * 2. Replay rate: jobs spooled while Redis was unreachable, then drained into Redis by
 *    the next process opening the spool (jobs/s).
 * Writes the `spool` section of docs/benchmarks.md. Short by design; read the ratios.
 * Env: BENCH_JOBS (default 50,000), BENCH_ROUNDS (3), BENCH_LATENCY_ADDS (2,000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue as BullQueue } from 'bullmq';
import { Queue } from '../../src/index.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { type RedisServer, startRedis } from '../redis.js';
import { median, percentile } from '../stats.js';

const envInt = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};
const JOBS = envInt('BENCH_JOBS', 50_000);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const LATENCY_ADDS = envInt('BENCH_LATENCY_ADDS', 2000);
const WINDOW = 1000;
const silent = { level: 'silent', debug() {}, info() {}, warn() {}, error() {} } as never;

type Mode = 'off' | 'on' | 'bullmq';
interface Adder {
  add(n: number): Promise<unknown>;
  close(): Promise<void>;
}

const tmp = mkdtempSync(join(tmpdir(), 'hopper-bench-spool-'));
let dirs = 0;

function adder(mode: Mode, url: string, name: string): Adder {
  if (mode === 'bullmq') {
    const u = new URL(url);
    const q = new BullQueue(name, { connection: { host: u.hostname, port: Number(u.port) } });
    return { add: (n) => q.add('j', { n }), close: () => q.close() };
  }
  const q = new Queue(name, {
    connection: url,
    logger: silent,
    metrics: false,
    spool: mode === 'on' ? { dir: join(tmp, `s${++dirs}`) } : undefined,
  });
  return { add: (n) => q.add('j', { n }), close: () => q.close() };
}

/** Redis's time in scripts (EVALSHA/EVAL) since the last CONFIG RESETSTAT, in µs. */
async function scriptMicros(admin: RedisServer['admin']): Promise<number> {
  const info = await admin.info('commandstats');
  let us = 0;
  for (const m of info.matchAll(/cmdstat_eval(?:sha)?:calls=\d+,usec=(\d+)/g)) us += Number(m[1]);
  return us;
}

async function throughput(a: Adder): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  const lane = async () => {
    while (next < JOBS) await a.add(next++);
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return JOBS / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function latency(a: Adder): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < LATENCY_ADDS; i++) {
    const t = process.hrtime.bigint();
    await a.add(i);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function replayRate(url: string): Promise<{ spoolRate: number; replayRate: number }> {
  const dir = join(tmp, 'replay');
  // Nothing listens on port 1: every add goes to the spool.
  const down = new Queue('replay', {
    connection: 'redis://127.0.0.1:1',
    logger: silent,
    metrics: false,
    spool: { dir, timeout: 100 },
  });
  await down.add('j', { n: -1 }); // the first batch waits for the failure; the rest go straight to disk
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < JOBS; i += WINDOW)
    await Promise.all(Array.from({ length: WINDOW }, (_, k) => down.add('j', { n: i + k })));
  const spoolRate = JOBS / (Number(process.hrtime.bigint() - t0) / 1e9);
  await down.close();
  const t1 = process.hrtime.bigint();
  const up = new Queue('replay', { connection: url, logger: silent, metrics: false, spool: { dir } });
  await new Promise<void>((resolve) => up.spool!.once('drained', resolve));
  const replayRate = (JOBS + 1) / (Number(process.hrtime.bigint() - t1) / 1e9);
  const waiting = (await up.getCounts()).waiting;
  if (waiting !== JOBS + 1) throw new Error(`replay stored ${waiting} jobs, expected ${JOBS + 1}`);
  await up.close();
  return { spoolRate, replayRate };
}

const redis = await startRedis({ aof: false });
try {
  const modes: Mode[] = ['off', 'on', 'bullmq'];
  const rates = new Map<Mode, number[]>(modes.map((m) => [m, []]));
  const lat = new Map<Mode, { p50: number; p99: number }[]>(modes.map((m) => [m, []]));
  // Per job: Redis's time in scripts and this process's CPU time, during the throughput run.
  const cost = new Map<Mode, { redis: number; node: number }[]>(modes.map((m) => [m, []]));
  const load = [loadavg()[0]!];
  for (let round = 0; round <= ROUNDS; round++) {
    for (const mode of modes) {
      await redis.flushAll();
      const a = adder(mode, redis.url, `bench-${mode}`);
      await redis.admin.config('RESETSTAT');
      const cpu = process.cpuUsage();
      const rate = await throughput(a);
      const used = process.cpuUsage(cpu);
      const redisUs = (await scriptMicros(redis.admin)) / JOBS;
      const l = await latency(a);
      await a.close();
      if (round === 0) continue; // warm-up
      rates.get(mode)!.push(rate);
      lat.get(mode)!.push(l);
      cost.get(mode)!.push({ redis: redisUs, node: (used.user + used.system) / JOBS });
      console.log(
        `round ${round} ${mode}: ${Math.round(rate)} adds/s, p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms`,
      );
    }
  }
  await redis.flushAll();
  const replay = await replayRate(redis.url);
  load.push(loadavg()[0]!);
  const r = (m: Mode) => median(rates.get(m)!);
  const p = (m: Mode, k: 'p50' | 'p99') => median(lat.get(m)!.map((x) => x[k]));
  const row = (label: string, m: Mode) =>
    `| ${label} | ${Math.round(r(m)).toLocaleString('en-US')} | ${(r(m) / r('off')).toFixed(2)} | ${p(m, 'p50').toFixed(3)} | ${p(m, 'p99').toFixed(3)} | ${c(m, 'redis').toFixed(2)} | ${c(m, 'node').toFixed(2)} |`;
  const c = (m: Mode, k: 'redis' | 'node') => median(cost.get(m)!.map((x) => x[k]));
  const table = [
    `${JOBS.toLocaleString('en-US')} adds, ${WINDOW} in flight; latency over ${LATENCY_ADDS} adds one at a time; medians of ${ROUNDS} rounds after a warm-up, modes alternating.`,
    '',
    '| producer | adds/s | vs spool off | p50 ms | p99 ms | Redis µs/job in scripts | Node CPU µs/job |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('Hopper, spool off', 'off'),
    row('Hopper, spool on (Redis up)', 'on'),
    row('BullMQ Queue.add', 'bullmq'),
    '',
    `Load average (1 min) at start and end: ${load.map((x) => x.toFixed(1)).join(' and ')} on ${availableParallelism()} CPUs.`,
    '',
    `Spool while Redis is unreachable: ${Math.round(replay.spoolRate).toLocaleString('en-US')} adds/s written to disk (fsync \`interval\`); replay by the next process: ${Math.round(replay.replayRate).toLocaleString('en-US')} jobs/s into Redis.`,
  ].join('\n');
  console.log(`\n${table}`);
  writeSection(
    'spool',
    `## Producer spool (\`npm run bench:spool\`)

${describeMachine(redis.version)}. The machine may be shared: read the ratios.

${table}`,
  );
} finally {
  await redis.stop();
  rmSync(tmp, { recursive: true, force: true });
}
