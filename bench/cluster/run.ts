/**
 * `npm run bench:cluster`: the cost model of a partitioned queue (docs/scaling.md). Three
 * setups, the same jobs in each: a plain queue on one Redis (the anchor), a queue of 3
 * partitions on the same one Redis, and a queue of 3 partitions on a 3-master Cluster
 * (no replicas; every server with appendonly yes, as the test cluster). Per run: add N
 * jobs (addBulk, 1,000 a call, 4 calls in flight), then one worker (concurrency 50) runs
 * them; throughput of each phase, and each master's Redis CPU per job (INFO cpu
 * used_cpu_sys + used_cpu_user, delta over the run). Medians of BENCH_RUNS (default 3);
 * BENCH_JOBS (default 20,000). Writes the `cluster` section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Queue, Worker } from '../../src/index.js';
import { startCluster } from '../../test/helpers/redis-cluster.js';
import { startRedis } from '../../test/helpers/redis-server.js';
import { writeSection } from '../doc.js';
import { redisCpuSeconds, redisVersion } from '../redis-info.js';
import { median } from '../stats.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const quiet = pino({ level: 'silent' });

interface Setup {
  label: string;
  connection: string;
  partitions: number | undefined;
  /** One client per master, for INFO cpu and FLUSHALL. */
  masters: Redis[];
}

interface Run {
  addRate: number;
  processRate: number;
  /** Jobs per second over both phases. */
  rate: number;
  /** Redis CPU µs per job, each master. */
  usPerJob: number[];
}

async function once(setup: Setup, run: number): Promise<Run> {
  await Promise.all(setup.masters.map((m) => m.flushall()));
  const name = `bench-${run}`;
  const opts = { connection: setup.connection, partitions: setup.partitions, logger: quiet, metrics: false };
  const queue = new Queue(name, opts);
  await queue.waitUntilReady();
  const cpu0 = await Promise.all(setup.masters.map(redisCpuSeconds));
  const t0 = performance.now();
  let next = 0;
  const adders = Array.from({ length: 4 }, async () => {
    while (next < JOBS) {
      const from = next;
      next = Math.min(JOBS, next + 1000);
      await queue.addBulk(
        Array.from({ length: next - from }, (_, i) => ({ name: 'j', data: { i: from + i } })),
      );
    }
  });
  await Promise.all(adders);
  const t1 = performance.now();
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((r) => {
    finished = r;
  });
  const worker = new Worker(
    name,
    async () => {
      if (++done === JOBS) finished();
    },
    { ...opts, concurrency: 50 },
  );
  await all;
  const t2 = performance.now();
  await worker.close();
  const cpu1 = await Promise.all(setup.masters.map(redisCpuSeconds));
  await queue.close();
  return {
    addRate: JOBS / ((t1 - t0) / 1000),
    processRate: JOBS / ((t2 - t1) / 1000),
    rate: JOBS / ((t2 - t0) / 1000),
    usPerJob: cpu1.map((c, i) => ((c - cpu0[i]!) * 1e6) / JOBS),
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const single = await startRedis({ aof: true });
  const cluster = await startCluster({ replicasPerMaster: 0 });
  const singleClient = new Redis(single.url);
  const masterClients = cluster.nodes.map((n) => new Redis(n.url));
  const setups: Setup[] = [
    {
      label: 'plain queue, 1 master',
      connection: single.url,
      partitions: undefined,
      masters: [singleClient],
    },
    { label: '3 partitions, 1 master', connection: single.url, partitions: 3, masters: [singleClient] },
    { label: '3 partitions, 3 masters', connection: cluster.url, partitions: 3, masters: masterClients },
  ];
  const results = new Map<string, Run[]>();
  try {
    for (let run = 1; run <= RUNS; run++) {
      // Setups interleaved within a run, so drift on the machine spreads over all of them.
      for (const s of setups) {
        const r = await once(s, run);
        results.set(s.label, [...(results.get(s.label) ?? []), r]);
        console.log(
          `${s.label} run ${run}: ${fmt(r.rate)} jobs/s (add ${fmt(r.addRate)}, process ${fmt(r.processRate)}), Redis µs/job ${r.usPerJob.map((u) => u.toFixed(1)).join(' / ')}`,
        );
      }
    }
  } finally {
    singleClient.disconnect();
    for (const c of masterClients) c.disconnect();
    await cluster.stop();
    await single.stop();
  }
  const summary = setups.map((s) => {
    const runs = results.get(s.label)!;
    const perMaster = s.masters.map((_, i) => median(runs.map((r) => r.usPerJob[i]!)));
    return {
      label: s.label,
      rate: median(runs.map((r) => r.rate)),
      addRate: median(runs.map((r) => r.addRate)),
      processRate: median(runs.map((r) => r.processRate)),
      perMaster,
      total: perMaster.reduce((a, b) => a + b, 0),
    };
  });
  const anchor = summary[0]!;
  const spread = summary[2]!;
  const worstShare = Math.max(...spread.perMaster) / anchor.total;
  const rateRatio = spread.rate / anchor.rate;
  const load = execFileSync('uptime').toString().trim();
  const version = await (async () => {
    const probe = await startRedis();
    const c = new Redis(probe.url);
    try {
      return await redisVersion(c);
    } finally {
      c.disconnect();
      await probe.stop();
    }
  })();
  const rows = summary.map(
    (s) =>
      `| ${s.label} | ${fmt(s.rate)} | ${fmt(s.addRate)} | ${fmt(s.processRate)} | ${s.perMaster.map((u) => u.toFixed(1)).join(' / ')} | ${s.total.toFixed(1)} | ${(s.rate / anchor.rate).toFixed(2)} |`,
  );
  const body = `## Partitioned queue on a Cluster (\`npm run bench:cluster\`)

${JOBS.toLocaleString('en-US')} jobs per run (addBulk of 1,000, 4 in flight; then one worker, concurrency 50, no-op handler), median of ${RUNS} runs, setups interleaved. Redis ${version}, every server appendonly yes (everysec), cluster without replicas. Machine: ${load}.

| setup | jobs/s (add + run) | add jobs/s | run jobs/s | Redis CPU µs per job, each master | all masters | throughput vs plain |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Targets (issue 13): busiest master of the 3-master partitioned queue at ${(worstShare * 100).toFixed(0)}% of the single-master plain queue's Redis CPU per job (target at most 40%: ${worstShare <= 0.4 ? 'met' : 'missed'}); whole-box throughput ${(rateRatio * 100).toFixed(0)}% of the plain queue's (target within 10%: ${rateRatio >= 0.9 ? 'met' : 'missed'}).`;
  console.log(`\n${body}\n`);
  writeSection('cluster', body);
}

await main();
