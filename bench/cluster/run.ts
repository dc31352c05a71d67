/**
 * `npm run bench:cluster`: the cost model of a partitioned queue (docs/scaling.md). Four
 * setups, the same jobs in each: a plain queue on one Redis (the anchor), a queue of 3
 * partitions on the same one Redis, a queue of 3 partitions on a 3-master Cluster (no
 * replicas; every server with appendonly yes, as the test cluster), and three plain queues
 * at once, one per master of that Cluster (the anchor again, under the same sharing of
 * this machine's cores as the partitioned queue's three masters). Per run: add N
 * jobs (addBulk, 1,000 a call, 4 calls in flight), then one worker (concurrency 50) runs
 * them; throughput of each phase, Node CPU per job, and each master's Redis CPU per job
 * (INFO cpu used_cpu_sys + used_cpu_user, delta over the run). The worker is created and
 * connected before the clock starts, as a busy queue's long-lived workers are: a Cluster
 * client's start (a connection per master and CLUSTER SLOTS, per connection of each
 * partition's worker) would otherwise be a sizeable share of a sub-second phase and
 * measure start-up, not the queue. Medians of BENCH_RUNS (default 7); BENCH_JOBS
 * (default 200,000: a run's fixed costs, such as its clients' start and the AOF's fsyncs, stay
 * small against its jobs). Writes the `cluster` section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Queue, Worker } from '../../src/index.js';
import { namesOnMasters, startCluster } from '../../test/helpers/redis-cluster.js';
import { startRedis } from '../../test/helpers/redis-server.js';
import { writeSection } from '../doc.js';
import { redisCommandCount, redisCpuSeconds, redisVersion } from '../redis-info.js';
import { median } from '../stats.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 200_000);
/** Time the worker's connections get to be ready before the clock starts. */
const WARM_MS = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const quiet = pino({ level: 'silent' });

interface Setup {
  label: string;
  connection: string;
  /** The queues the run's jobs are spread over (one, except the per-master plain queues). */
  queues: { name: string; partitions: number | undefined }[];
  /** One client per master, for INFO cpu and FLUSHALL. */
  masters: Redis[];
}

interface Run {
  addRate: number;
  processRate: number;
  /** Jobs per second over both phases. */
  rate: number;
  /** Redis CPU µs per job, each master (per job of its own queue, for one queue per master). */
  usPerJob: number[];
  /** Redis CPU µs per job, all masters together. */
  allUsPerJob: number;
  /** Redis commands per job, each master (scripts' inner commands included). */
  callsPerJob: number[];
  /** This process's CPU µs per job (producer and worker), both phases. */
  nodeUsPerJob: number;
}

async function once(setup: Setup): Promise<Run> {
  await Promise.all(setup.masters.map((m) => m.flushall()));
  const opts = { connection: setup.connection, logger: quiet, metrics: false };
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((r) => {
    finished = r;
  });
  const handler = async () => {
    if (++done === JOBS) finished();
  };
  const queues = setup.queues.map(({ name, partitions }) => new Queue(name, { ...opts, partitions }));
  const workers = setup.queues.map(
    ({ name, partitions }) =>
      new Worker(name, handler, { ...opts, partitions, concurrency: 50, autorun: false }),
  );
  await Promise.all([...queues, ...workers].map((c) => c.waitUntilReady()));
  await sleep(WARM_MS);
  const cpu0 = await Promise.all(setup.masters.map(redisCpuSeconds));
  const calls0 = await Promise.all(setup.masters.map(redisCommandCount));
  const node0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let turn = 0;
  const added = queues.map(() => 0);
  const adders = Array.from({ length: 4 }, async () => {
    while (next < JOBS) {
      const from = next;
      next = Math.min(JOBS, next + 1000);
      const q = turn++ % queues.length;
      added[q] = added[q]! + next - from;
      await queues[q]!.addBulk(
        Array.from({ length: next - from }, (_, i) => ({ name: 'j', data: { i: from + i } })),
      );
    }
  });
  await Promise.all(adders);
  const t1 = performance.now();
  for (const w of workers) w.run();
  await all;
  const t2 = performance.now();
  const node = process.cpuUsage(node0);
  await Promise.all(workers.map((w) => w.close()));
  const cpu1 = await Promise.all(setup.masters.map(redisCpuSeconds));
  const calls1 = await Promise.all(setup.masters.map(redisCommandCount));
  await Promise.all(queues.map((q) => q.close()));
  // Per job of the queue a master serves: every job when one queue spreads over the masters;
  // with a plain queue on each master (queues[i] on masters[i]), the jobs of its own queue.
  const served = (i: number) => (queues.length === 1 ? JOBS : added[i]!);
  return {
    addRate: JOBS / ((t1 - t0) / 1000),
    processRate: JOBS / ((t2 - t1) / 1000),
    rate: JOBS / ((t2 - t0) / 1000),
    usPerJob: cpu1.map((c, i) => ((c - cpu0[i]!) * 1e6) / served(i)),
    allUsPerJob: (cpu1.reduce((a, c, i) => a + c - cpu0[i]!, 0) * 1e6) / JOBS,
    callsPerJob: calls1.map((c, i) => (c - calls0[i]!) / served(i)),
    nodeUsPerJob: (node.user + node.system) / JOBS,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const single = await startRedis({ aof: true });
  const cluster = await startCluster({ replicasPerMaster: 0 });
  const singleClient = new Redis(single.url);
  const masterClients = cluster.nodes.map((n) => new Redis(n.url));
  const onMasters = await namesOnMasters(cluster, 'plain');
  const plain = (name: string) => ({ name, partitions: undefined });
  const setups: Setup[] = [
    {
      label: 'plain queue, 1 master',
      connection: single.url,
      queues: [plain('bench')],
      masters: [singleClient],
    },
    {
      label: '3 partitions, 1 master',
      connection: single.url,
      queues: [{ name: 'bench', partitions: 3 }],
      masters: [singleClient],
    },
    {
      label: '3 partitions, 3 masters',
      connection: cluster.url,
      queues: [{ name: 'bench', partitions: 3 }],
      masters: masterClients,
    },
    {
      label: 'a plain queue on each of 3 masters',
      connection: cluster.url,
      queues: onMasters.map((m) => plain(m.name)),
      masters: onMasters.map((m) => new Redis(m.master.url)),
    },
  ];
  const results = new Map<string, Run[]>();
  try {
    for (let run = 1; run <= RUNS; run++) {
      // Setups interleaved within a run, so drift on the machine spreads over all of them.
      for (const s of setups) {
        const r = await once(s);
        results.set(s.label, [...(results.get(s.label) ?? []), r]);
        console.log(
          `${s.label} run ${run}: ${fmt(r.rate)} jobs/s (add ${fmt(r.addRate)}, process ${fmt(r.processRate)}), Node µs/job ${r.nodeUsPerJob.toFixed(1)}, Redis µs/job ${r.usPerJob.map((u) => u.toFixed(1)).join(' / ')}, commands/job ${r.callsPerJob.map((u) => u.toFixed(3)).join(' / ')}`,
        );
      }
    }
  } finally {
    for (const c of new Set(setups.flatMap((s) => s.masters))) c.disconnect();
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
      nodeUs: median(runs.map((r) => r.nodeUsPerJob)),
      perMaster,
      total: median(runs.map((r) => r.allUsPerJob)),
      calls: s.masters.map((_, i) => median(runs.map((r) => r.callsPerJob[i]!))),
    };
  });
  const anchor = summary[0]!;
  const spread = summary[2]!;
  const worstShare = Math.max(...spread.perMaster) / anchor.total;
  // The same per-job anchor measured on the busy cluster: a plain queue per master, all at once.
  const sideBySide = summary[3]!;
  const matchedAnchor = sideBySide.perMaster.reduce((a, b) => a + b, 0) / sideBySide.perMaster.length;
  const matchedShare = Math.max(...spread.perMaster) / matchedAnchor;
  const worstCalls = Math.max(...spread.calls) / anchor.calls[0]!;
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
      `| ${s.label} | ${fmt(s.rate)} | ${fmt(s.addRate)} | ${fmt(s.processRate)} | ${s.nodeUs.toFixed(1)} | ${s.perMaster.map((u) => u.toFixed(1)).join(' / ')} | ${s.total.toFixed(1)} | ${s.calls.map((c) => c.toFixed(3)).join(' / ')} | ${(s.rate / anchor.rate).toFixed(2)} |`,
  );
  const body = `## Partitioned queue on a Cluster (\`npm run bench:cluster\`)

${JOBS.toLocaleString('en-US')} jobs per run (addBulk of 1,000, 4 in flight; then one worker per queue, concurrency 50, no-op handler, its connections made before the clock starts), median of ${RUNS} runs, setups interleaved. Redis ${version}, every server appendonly yes (everysec), cluster without replicas. Machine: ${load}. The last row runs three plain queues at once, one on each master of the same cluster, with the run's jobs dealt among them: its per-master figures are per job of the queue on that master, the cost of a plain queue's job while four busy processes share this machine's two cores, as they do for the partitioned queue on three masters.

| setup | jobs/s (add + run) | add jobs/s | run jobs/s | Node CPU µs per job | Redis CPU µs per job, each master | all masters | Redis commands per job, each master | throughput vs plain |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Targets (issue 13): busiest master of the 3-master partitioned queue at ${(worstShare * 100).toFixed(0)}% of the single-master plain queue's Redis CPU per job (target at most 40%: ${worstShare <= 0.4 ? 'met' : 'missed'}), and at ${(matchedShare * 100).toFixed(0)}% of a plain queue's job on the same busy cluster (${matchedAnchor.toFixed(1)} µs, last row: ${matchedShare <= 0.4 ? 'met' : 'missed'}); its commands per job at ${(worstCalls * 100).toFixed(0)}% of the plain queue's (the work each master does, which the machine's load does not stretch); whole-box throughput ${(rateRatio * 100).toFixed(0)}% of the plain queue's (target within 10%: ${rateRatio >= 0.9 ? 'met' : 'missed'}).`;
  console.log(`\n${body}\n`);
  writeSection('cluster', body);
}

await main();
