/**
 * `npm run bench:metrics`, two figures for issue 6, both against a redis-server it starts:
 *
 * 1. What recording metrics costs the worker: the same no-op jobs processed with
 *    `metrics: false` and with metrics on, rounds alternating in one run (so machine load
 *    hits both alike); jobs/s and Node CPU µs per job, medians of the rounds, and the ratio.
 * 2. `POST /api/v1/queues/:queue/jobs` under autocannon against a server in its own
 *    process: requests/s, p50 and p99 latency, non-2xx answers.
 *
 * 3. What the optional OpenTelemetry hooks cost per job: off (not installed, or no provider)
 *    and on (tracing-cost.ts, one process per mode).
 * Writes the `metrics` section of docs/benchmarks.md.
 *
 * Short by design (well under two minutes); the machine may be shared, so read ratios.
 * Env: BENCH_JOBS (default 200,000), BENCH_ROUNDS (4 per mode, after one warm-up round each), BENCH_DURATION (s, 10),
 * BENCH_CONNECTIONS (50).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from '../../src/index.js';
import { REPO_ROOT, runChild } from '../child.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { startRedis } from '../redis.js';
import { median } from '../stats.js';

interface AutocannonResult {
  requests: { average: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  latency: { p50: number; p99: number };
}
// autocannon ships no types; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as (
  o: Record<string, unknown>,
) => Promise<AutocannonResult>;

const envInt = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};
const JOBS = envInt('BENCH_JOBS', 200_000);
const ROUNDS = envInt('BENCH_ROUNDS', 4);
const DURATION_S = envInt('BENCH_DURATION', 10);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 50);
const CONCURRENCY = 100;

interface Round {
  jobsPerSecond: number;
  cpuUsPerJob: number;
}

async function processRound(url: string, metrics: boolean, round: number, jobs = JOBS): Promise<Round> {
  const name = `bench-metrics-${metrics ? 'on' : 'off'}-${round}`;
  const queue = new Queue(name, { connection: url, metrics });
  for (let i = 0; i < jobs; i += 1000)
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({ name: 'j', data: { n: i + j } })),
    );
  let done = 0;
  let resolve!: () => void;
  const finished = new Promise<void>((r) => {
    resolve = r;
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = new Worker(name, () => null, { connection: url, concurrency: CONCURRENCY, metrics });
  worker.on('completed', () => {
    if (++done === jobs) resolve();
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await worker.close();
  if (metrics) {
    const m = await queue.getMetrics({ days: 1 });
    if (m.completedJobs !== jobs) throw new Error(`metrics counted ${m.completedJobs} of ${jobs} jobs`);
  }
  await queue.obliterate({ force: true });
  await queue.close();
  return { jobsPerSecond: jobs / seconds, cpuUsPerJob: (used.user + used.system) / jobs };
}

function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/metrics/server.ts'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

const TRACING_MODES = {
  absent: '`@opentelemetry/api` not installed (import fails)',
  noop: 'installed, no tracer provider registered',
  on: 'provider registered, producer span active',
} as const;

/** The tracing hooks' cost per job in each mode, each in its own process (bench/metrics/tracing-cost.ts). */
async function tracingFigures(): Promise<string> {
  const rows: string[] = [];
  for (const mode of Object.keys(TRACING_MODES) as (keyof typeof TRACING_MODES)[]) {
    const out = await runChild<{ producerNs: number; workerNs: number }>(
      'bench/metrics/tracing-cost.ts',
      ['--mode', mode],
      60_000,
    );
    if (!out.ok) throw new Error(`tracing ${mode}: ${out.error}`);
    const { producerNs, workerNs } = out.value;
    rows.push(`| ${TRACING_MODES[mode]} | ${producerNs.toFixed(0)} | ${workerNs.toFixed(0)} |`);
  }
  return [
    'Tracing hooks, ns per job (median of 7 loops of 200,000 calls; over an empty loop and over calling the attempt directly):',
    '',
    '| OpenTelemetry | producer: `add` hook | worker: span per attempt |',
    '|---|---:|---:|',
    ...rows,
  ].join('\n');
}

async function submitFigures(url: string) {
  const token = randomBytes(24).toString('hex');
  const { child, port } = await startServer({ ...process.env, REDIS_URL: url, BENCH_TOKEN: token });
  const load = (duration: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}/api/v1/queues/bench/jobs`,
      method: 'POST',
      connections: CONNECTIONS,
      duration,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rebalance', data: { wallet: 'wallet_001', amount: 12.5 } }),
    });
  try {
    await load(2); // warm-up: JIT, script cache, connections
    return await load(DURATION_S);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const redis = await startRedis({ aof: false });
try {
  const rounds: Record<'off' | 'on', Round[]> = { off: [], on: [] };
  // Warm-up (JIT, script cache), not counted.
  await processRound(redis.url, false, -1, 20_000);
  await processRound(redis.url, true, -1, 20_000);
  for (let r = 0; r < ROUNDS; r++)
    for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      rounds[mode].push(await processRound(redis.url, mode === 'on', r));
      await sleep(200);
    }
  const fig = (mode: 'off' | 'on') => ({
    jobsPerSecond: median(rounds[mode].map((x) => x.jobsPerSecond)),
    cpuUsPerJob: median(rounds[mode].map((x) => x.cpuUsPerJob)),
  });
  const off = fig('off');
  const on = fig('on');
  const n = (v: number) => Math.round(v).toLocaleString('en');
  const processing = [
    `Processing ${n(JOBS)} no-op jobs, 1 worker, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds each, alternating:`,
    '',
    '| metrics | jobs/s | Node CPU µs per job |',
    '|---|---:|---:|',
    `| off | ${n(off.jobsPerSecond)} | ${off.cpuUsPerJob.toFixed(1)} |`,
    `| on | ${n(on.jobsPerSecond)} | ${on.cpuUsPerJob.toFixed(1)} |`,
    '',
    `Throughput with metrics: ${((on.jobsPerSecond / off.jobsPerSecond) * 100).toFixed(1)}% of without; Node CPU per job ${((on.cpuUsPerJob / off.cpuUsPerJob - 1) * 100).toFixed(1)}% change. Rounds off: ${rounds.off.map((x) => n(x.jobsPerSecond)).join(', ')}; on: ${rounds.on.map((x) => n(x.jobsPerSecond)).join(', ')}.`,
  ].join('\n');
  console.log(processing);

  const s = await submitFigures(redis.url);
  const submit = [
    `\`POST /api/v1/queues/:queue/jobs\`, ${CONNECTIONS} connections, ${DURATION_S} s after a 2 s warm-up, server in its own process:`,
    '',
    '| requests/s | p50 ms | p99 ms | 2xx | non-2xx | errors |',
    '|---:|---:|---:|---:|---:|---:|',
    `| ${n(s.requests.average)} | ${s.latency.p50} | ${s.latency.p99} | ${s['2xx']} | ${s.non2xx} | ${s.errors} |`,
  ].join('\n');
  console.log(`\n${submit}`);

  const tracing = await tracingFigures();
  console.log(`\n${tracing}`);
  writeSection(
    'metrics',
    `## Metrics and tracing (\`npm run bench:metrics\`)

${describeMachine(redis.version)}. The machine may be shared: read the ratios.

${processing}

${submit}

${tracing}`,
  );
} finally {
  await redis.stop();
}
