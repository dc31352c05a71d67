/**
 * One measurement in a fresh process:
 *   node --import tsx bench/measure.ts --lib hopper|bullmq|bee --case <case> --url redis://...
 * Prints one JSON line (ChildResult) on stdout and exits.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { CASE_NAMES, type CaseName, type ChildResult, type Figures } from './figures.js';
import { hostBusySeconds } from './host-cpu.js';
import { adapterFor } from './libs/index.js';
import { type Adapter, type BenchData, LIB_NAMES, type LibName, type Producer } from './libs/types.js';
import { redisCpuSeconds } from './redis-info.js';
import { settings } from './settings.js';
import { percentile } from './stats.js';

type Measured = Omit<Figures, 'lib' | 'case'>;

interface Mark {
  at: number;
  node: NodeJS.CpuUsage;
  redis: number;
  host: number | undefined;
}

async function mark(admin: Redis): Promise<Mark> {
  const redis = await redisCpuSeconds(admin);
  return { at: performance.now(), node: process.cpuUsage(), redis, host: hostBusySeconds() };
}

function window(start: Mark, end: Mark, jobs: number, errors: number): Measured {
  const seconds = (end.at - start.at) / 1000;
  const nodeUs = end.node.user - start.node.user + (end.node.system - start.node.system);
  const redisSeconds = end.redis - start.redis;
  const hostSeconds = start.host !== undefined && end.host !== undefined ? end.host - start.host : undefined;
  return {
    jobs,
    seconds,
    rate: jobs / seconds,
    nodeUsPerJob: nodeUs / jobs,
    redisUsPerJob: (redisSeconds * 1e6) / jobs,
    errors,
    otherCpus:
      hostSeconds === undefined
        ? undefined
        : Math.max(0, hostSeconds - nodeUs / 1e6 - redisSeconds) / seconds,
  };
}

const payload = (i: number): BenchData => ({ i, t: Date.now() });

/** Runs fn(0..total-1) keeping `inFlight` calls pending at all times. */
async function inFlight(total: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, total) }, lane));
}

async function addBulkAll(producer: Producer, total: number): Promise<void> {
  for (let from = 0; from < total; from += settings.bulkChunk) {
    const size = Math.min(settings.bulkChunk, total - from);
    await producer.addBulk(Array.from({ length: size }, (_, k) => payload(from + k)));
  }
}

async function enqueue(adapter: Adapter, admin: Redis): Promise<Measured> {
  const producer = await adapter.producer('bench-enqueue');
  const add = (i: number) => producer.add(payload(i));
  await inFlight(settings.warmupJobs, settings.inFlight, add);
  const start = await mark(admin);
  await inFlight(settings.jobs, settings.inFlight, (i) => add(settings.warmupJobs + i));
  const end = await mark(admin);
  await producer.close();
  return window(start, end, settings.jobs, 0);
}

async function bulk(adapter: Adapter, admin: Redis): Promise<Measured> {
  const producer = await adapter.producer('bench-bulk');
  const chunk = (from: number, size: number) =>
    producer.addBulk(Array.from({ length: size }, (_, k) => payload(from + k)));
  await chunk(0, Math.min(settings.bulkChunk, settings.warmupJobs));
  const start = await mark(admin);
  for (let done = 0; done < settings.jobs; done += settings.bulkChunk) {
    await chunk(settings.warmupJobs + done, Math.min(settings.bulkChunk, settings.jobs - done));
  }
  const end = await mark(admin);
  await producer.close();
  return window(start, end, settings.jobs, 0);
}

/**
 * Pre-fills warm-up + timed jobs, then times one worker from the warm-up's last completion
 * until the last completed event AND Redis reporting nothing waiting, delayed or active
 * (so a library that reports completion before its ack lands is not timed short).
 */
async function processAll(
  adapter: Adapter,
  admin: Redis,
  concurrency: number,
  jobs: number,
): Promise<Measured> {
  const queue = `bench-process-c${concurrency}`;
  const warm = settings.warmupJobs;
  const producer = await adapter.producer(queue);
  await addBulkAll(producer, warm + jobs);
  let completed = 0;
  let errors = 0;
  let startMark: Promise<Mark> | undefined;
  let lastEventAt = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumer = await adapter.consumer(queue, {
    concurrency,
    handler: async () => {},
    onCompleted: () => {
      completed++;
      if (completed === warm) startMark = mark(admin);
      else if (completed === warm + jobs) {
        lastEventAt = performance.now();
        finish();
      }
    },
    onError: (error) => {
      errors++;
      if (errors <= 3) console.error('worker error:', error);
    },
  });
  await finished;
  const deadline = Date.now() + 10_000;
  let pending = await producer.pending();
  while (pending > 0 && Date.now() < deadline) {
    await sleep(1);
    pending = await producer.pending();
  }
  if (pending > 0)
    throw new Error(`${pending} jobs still pending in Redis 10 s after the last completed event`);
  const end = await mark(admin);
  await closeQuietly(consumer.close());
  await closeQuietly(producer.close());
  return { ...window(await startMark!, end, jobs, errors), settleMs: end.at - lastEventAt };
}

async function latency(adapter: Adapter, admin: Redis): Promise<Measured> {
  const queue = 'bench-latency';
  const rate = settings.latencyRate;
  const warmCount = rate * settings.latencyWarmupSeconds;
  const total = warmCount + rate * settings.latencySeconds;
  const samples: number[] = [];
  let completed = 0;
  let errors = 0;
  const consumer = await adapter.consumer(queue, {
    concurrency: settings.latencyConcurrency,
    handler: async (data) => {
      const ms = performance.now() - data.t;
      if (data.i >= warmCount) samples.push(ms);
    },
    onCompleted: () => {
      completed++;
    },
    onError: () => {
      errors++;
    },
  });
  const producer = await adapter.producer(queue);
  let sent = 0;
  let startAt = 0;
  let startMark: Promise<Mark> | undefined;
  const pending: Promise<void>[] = [];
  const began = performance.now();
  // A 1 ms timer loop that sends whatever the schedule says is due: i-th job at began + i ms.
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - began) * rate) / 1000) + 1);
      while (sent < due) {
        const i = sent++;
        if (i === warmCount) {
          startAt = performance.now();
          startMark = mark(admin);
        }
        pending.push(producer.add({ i, t: performance.now() }).catch(() => void errors++));
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const producedSeconds = (performance.now() - startAt) / 1000;
  await Promise.all(pending);
  const deadline = Date.now() + 30_000;
  while (completed < total && Date.now() < deadline) await sleep(5);
  if (completed < total) throw new Error(`latency: only ${completed} of ${total} jobs completed within 30 s`);
  const end = await mark(admin);
  await closeQuietly(consumer.close());
  await closeQuietly(producer.close());
  return {
    ...window(await startMark!, end, samples.length, errors),
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max: percentile(samples, 100),
    producedRate: (total - warmCount) / producedSeconds,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function closeQuietly(closing: Promise<void>): Promise<void> {
  await Promise.race([closing.catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
}

const CASES: Record<CaseName, (adapter: Adapter, admin: Redis) => Promise<Measured>> = {
  enqueue,
  bulk,
  'process-c1': (adapter, admin) => processAll(adapter, admin, 1, settings.c1Jobs),
  'process-c100': (adapter, admin) => processAll(adapter, admin, 100, settings.jobs),
  latency,
};

function emit(result: ChildResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { lib: { type: 'string' }, case: { type: 'string' }, url: { type: 'string' } },
  });
  const lib = values.lib as LibName | undefined;
  const caseName = values.case as CaseName | undefined;
  if (!lib || !LIB_NAMES.includes(lib)) throw new Error(`--lib must be one of ${LIB_NAMES.join(', ')}`);
  if (!caseName || !CASE_NAMES.includes(caseName))
    throw new Error(`--case must be one of ${CASE_NAMES.join(', ')}`);
  if (!values.url) throw new Error('--url redis://host:port is required');
  const admin = new Redis(values.url, { maxRetriesPerRequest: 1 });
  const adapter = await adapterFor(lib, values.url);
  const measured = await CASES[caseName](adapter, admin);
  admin.disconnect();
  emit({ ok: true, figures: { lib, case: caseName, ...measured } });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    emit({ ok: false, error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
