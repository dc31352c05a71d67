/**
 * `npm run bench:flows`: flows per second (1 parent + 10 children, no-op handlers,
 * parent and children in two queues) for Hopper's FlowProducer and BullMQ's, in the
 * same run on the same private redis-server, runs interleaved; and the Node and
 * Redis CPU per job of a flow against a plain Hopper job. Node CPU is the whole
 * process's (producer and workers) over the window, Redis CPU is INFO
 * used_cpu_user + used_cpu_sys. FLOWS and RUNS override the defaults.
 */
import { FlowProducer as BullFlowProducer, Worker as BullWorker } from 'bullmq';
import { pino } from 'pino';
import { FlowProducer, Queue, Worker } from '../../src/index.js';
import { type RedisServer, startRedis } from '../redis.js';
import { redisCpuSeconds } from '../redis-info.js';

const FLOWS = Number(process.env.FLOWS ?? 2000);
const RUNS = Number(process.env.RUNS ?? 3);
const KIDS = 10;
const CONCURRENCY = 100;
const CHUNK = 100;
const quiet = pino({ level: 'silent' });

interface Figure {
  seconds: number;
  nodeUs: number;
  redisUs: number;
}

async function measure(redis: RedisServer, jobs: number, body: () => Promise<void>): Promise<Figure> {
  const r0 = await redisCpuSeconds(redis.admin);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await body();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const r1 = await redisCpuSeconds(redis.admin);
  return { seconds, nodeUs: (c.user + c.system) / jobs, redisUs: ((r1 - r0) * 1e6) / jobs };
}

function flowsOf(parentQueue: string, childQueue: string, run: number) {
  return Array.from({ length: FLOWS }, (_, i) => ({
    name: 'parent',
    queueName: parentQueue,
    queue: parentQueue,
    data: { i },
    opts: { jobId: `r${run}-f${i}`, removeOnComplete: true },
    children: Array.from({ length: KIDS }, (_, j) => ({
      name: 'child',
      queueName: childQueue,
      queue: childQueue,
      data: { j },
      opts: { removeOnComplete: true },
    })),
  }));
}

function done(target: number): { count: () => void; wait: Promise<void> } {
  let n = 0;
  let resolve!: () => void;
  const wait = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    count: () => {
      if (++n === target) resolve();
    },
    wait,
  };
}

async function hopperFlows(redis: RedisServer, run: number): Promise<Figure> {
  const [pq, cq] = [`hp${run}`, `hc${run}`];
  const producer = new FlowProducer({ connection: redis.url });
  const end = done(FLOWS);
  const opts = { connection: redis.url, concurrency: CONCURRENCY, logger: quiet, metrics: false } as const;
  const parents = new Worker(pq, async () => null, opts);
  const children = new Worker(cq, async () => null, opts);
  parents.on('completed', end.count);
  const flows = flowsOf(pq, cq, run).map(({ queueName: _q, children: c, ...f }) => ({
    ...f,
    children: c.map(({ queueName: _c, ...k }) => k),
  }));
  const fig = await measure(redis, FLOWS * (KIDS + 1), async () => {
    for (let i = 0; i < flows.length; i += CHUNK) await producer.addBulk(flows.slice(i, i + CHUNK));
    await end.wait;
  });
  await Promise.all([parents.close(), children.close(), producer.close()]);
  return fig;
}

async function bullFlows(redis: RedisServer, run: number): Promise<Figure> {
  const [pq, cq] = [`bp${run}`, `bc${run}`];
  const connection = { url: redis.url, maxRetriesPerRequest: null };
  const producer = new BullFlowProducer({ connection });
  const end = done(FLOWS);
  const parents = new BullWorker(pq, async () => null, { connection, concurrency: CONCURRENCY });
  const children = new BullWorker(cq, async () => null, { connection, concurrency: CONCURRENCY });
  parents.on('completed', end.count);
  const flows = flowsOf(pq, cq, run).map(({ queue: _q, children: c, ...f }) => ({
    ...f,
    children: c.map(({ queue: _c, ...k }) => k),
  }));
  const fig = await measure(redis, FLOWS * (KIDS + 1), async () => {
    for (let i = 0; i < flows.length; i += CHUNK) await producer.addBulk(flows.slice(i, i + CHUNK));
    await end.wait;
  });
  await Promise.all([parents.close(), children.close(), producer.close()]);
  return fig;
}

async function hopperPlain(redis: RedisServer, run: number): Promise<Figure> {
  const name = `plain${run}`;
  const jobs = FLOWS * (KIDS + 1);
  const queue = new Queue(name, { connection: redis.url, metrics: false });
  const end = done(jobs);
  const worker = new Worker(name, async () => null, {
    connection: redis.url,
    concurrency: CONCURRENCY,
    logger: quiet,
    metrics: false,
  });
  worker.on('completed', end.count);
  const fig = await measure(redis, jobs, async () => {
    for (let i = 0; i < jobs; i += CHUNK * (KIDS + 1))
      await queue.addBulk(
        Array.from({ length: Math.min(CHUNK * (KIDS + 1), jobs - i) }, () => ({
          name: 'plain',
          data: { j: 1 },
          opts: { removeOnComplete: true },
        })),
      );
    await end.wait;
  });
  await Promise.all([worker.close(), queue.close()]);
  return fig;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const redis = await startRedis({ aof: false });
const results: Record<string, Figure[]> = { hopper: [], bullmq: [], plain: [] };
try {
  for (let run = 0; run < RUNS; run++) {
    await redis.flushAll();
    results.bullmq!.push(await bullFlows(redis, run));
    await redis.flushAll();
    results.hopper!.push(await hopperFlows(redis, run));
    await redis.flushAll();
    results.plain!.push(await hopperPlain(redis, run));
    console.log(`run ${run + 1}/${RUNS} done`);
  }
} finally {
  await redis.stop();
}
const row = (label: string, figs: Figure[], flows: boolean) => {
  const rate = figs.map((f) => (flows ? FLOWS : FLOWS * (KIDS + 1)) / f.seconds);
  return `| ${label} | ${flows ? Math.round(median(rate)).toLocaleString('en') : '-'} | ${Math.round(median(figs.map((f) => (FLOWS * (KIDS + 1)) / f.seconds))).toLocaleString('en')} | ${median(figs.map((f) => f.nodeUs)).toFixed(1)} | ${median(figs.map((f) => f.redisUs)).toFixed(1)} |`;
};
const h = median(results.hopper!.map((f) => FLOWS / f.seconds));
const b = median(results.bullmq!.map((f) => FLOWS / f.seconds));
console.log(
  `\n${FLOWS} flows of 1 parent + ${KIDS} children (two queues), concurrency ${CONCURRENCY}, median of ${RUNS} runs; Redis ${redis.version}\n`,
);
console.log('| case | flows/s | jobs/s | Node CPU µs/job | Redis CPU µs/job |');
console.log('|---|---|---|---|---|');
console.log(row('Hopper FlowProducer', results.hopper!, true));
console.log(row('BullMQ FlowProducer', results.bullmq!, true));
console.log(row('Hopper plain jobs (same job count)', results.plain!, false));
console.log(`\nHopper / BullMQ flows/s: ${(h / b).toFixed(2)}x`);
