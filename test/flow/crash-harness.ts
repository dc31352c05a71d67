import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { type FlowJob, FlowProducer, Queue } from '../../src/index.js';
import { type QueueKeys, queueKeys } from '../../src/queue/keys.js';
import { partitionNames } from '../../src/queue/partitions/layout.js';
import { FixtureProcess } from '../helpers/fixture-process.js';
import { namesOnMasters, startCluster } from '../helpers/redis-cluster.js';
import { startRedis } from '../helpers/redis-server.js';
import { uniqueName } from '../helpers/worker-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/flow-worker.ts', import.meta.url));
const KIDS = 10;
const SUM = (KIDS * (KIDS + 1)) / 2;

export interface CrashRunOptions {
  flows: number;
  /** SIGKILLs of a random worker process (each replaced at once). */
  kills: number;
  /** Worker processes running at once. */
  processes: number;
  /** Give up after this long. */
  timeoutMs: number;
  log?: (line: string) => void;
  /**
   * Run on a local 3-master Redis Cluster (no replicas: nothing here kills Redis, and
   * replication would only load the machine) instead of one redis-server; the three
   * queues' names are picked so their hash tags sit on the three masters.
   */
  cluster?: boolean;
  /** Open the three queues (Queue and the fixture's Workers) with this many partitions. */
  partitions?: number;
}

export interface CrashRunResult {
  flows: number;
  jobs: number;
  kills: number;
  cluster: boolean;
  partitions: number;
  seconds: number;
  /** Jobs found in the completed sets of every partition of the three queues: must equal `jobs`. */
  completed: number;
  /** Parents that never completed. */
  unfinished: number;
  /** Parent runs that did not see all children completed with their results. */
  incomplete: number;
  /** Parents that ran more than once with every earlier run in a process that was not killed (a double release). */
  doubled: number;
  /** Parent runs repeated because their process was killed mid-run (at-least-once). */
  rerunAfterKill: number;
  /** Jobs left failed, waiting for children, or undelivered in an outbox. */
  leftovers: number;
  /** Outcomes the recovery sweep delivered (a kill between settle and delivery, or a delivery slower than 5 s). */
  recovered: number;
  problems: string[];
}

/**
 * Flows of 1 parent + 10 children spread over three queues (three hash tags, so
 * three Cluster slots), run by worker processes of which `kills` are SIGKILLed at
 * random moments: checks every parent runs once, after all its children, with all
 * their results.
 */
export async function runCrashFlows(o: CrashRunOptions): Promise<CrashRunResult> {
  const say = o.log ?? (() => {});
  const cluster = o.cluster ? await startCluster({ replicasPerMaster: 0 }) : undefined;
  const redis = cluster ?? (await startRedis());
  const dir = mkdtempSync(join(tmpdir(), 'hopper-flows-'));
  const log = join(dir, 'parents.log');
  const names = cluster
    ? (await namesOnMasters(cluster, `${uniqueName('f')}-`)).map((x) => x.name)
    : [uniqueName('fa'), uniqueName('fb'), uniqueName('fc')];
  const raw = cluster ? new Cluster(cluster.seeds) : new Redis(redis.url);
  const partitions = o.partitions ?? 1;
  // Every partition's keys of each queue (one set for a plain queue): the checks read them all.
  const keysOf: QueueKeys[][] = names.map((n) =>
    partitionNames('hopper', n, partitions).map((p) => queueKeys('hopper', p)),
  );
  const queues = names.map(
    (n) => new Queue(n, { connection: redis.url, metrics: false, partitions: o.partitions }),
  );
  const producer = new FlowProducer({ connection: redis.url });
  const procs: FixtureProcess[] = [];
  const killed = new Set<string>();
  const start = performance.now();
  try {
    // A partitioned queue records its count before the producer first names it (docs/flows.md).
    await Promise.all(queues.map((q) => q.waitUntilReady()));
    const keep = { removeOnComplete: false };
    for (let from = 0; from < o.flows; from += 200) {
      const batch: FlowJob[] = [];
      for (let i = from; i < Math.min(o.flows, from + 200); i++)
        batch.push({
          name: 'parent',
          queue: names[i % 3]!,
          data: { kids: KIDS },
          opts: { jobId: `f${i}`, ...keep },
          children: Array.from({ length: KIDS }, (_, j) => ({
            name: 'child',
            queue: names[(i + j) % 3]!,
            data: { v: j + 1 },
            opts: keep,
          })),
        });
      await producer.addBulk(batch);
    }
    say(`added ${o.flows} flows in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      QUEUES: names.join(','),
      LOG: log,
      LEASE_MS: '1000',
    };
    if (o.partitions !== undefined) env.PARTITIONS = String(o.partitions);
    const ready = new Set<FixtureProcess>();
    const spawnOne = async () => {
      const p = new FixtureProcess(FIXTURE, env);
      procs.push(p);
      await p.waitForExact('ready', 30_000);
      ready.add(p);
      return p;
    };
    await Promise.all(Array.from({ length: o.processes }, spawnOne));
    const total = o.flows * (KIDS + 1);
    let kills = 0;
    let done = false;
    const deadline = Date.now() + o.timeoutMs;
    // Kills at random points of progress (5% to 95% of jobs completed), so they land
    // throughout the run: while children complete, while parents are released and run.
    const at = Array.from({ length: o.kills }, () => Math.floor(total * (0.05 + Math.random() * 0.9))).sort(
      (x, y) => x - y,
    );
    for (;;) {
      const counts = await Promise.all(queues.map((q) => q.getCounts()));
      const completed = counts.reduce((s, c) => s + c.completed, 0);
      if (completed >= total) {
        done = true;
        break;
      }
      if (Date.now() > deadline) {
        say(`timed out: ${completed}/${total} completed`);
        break;
      }
      const live = procs.filter((p) => p.running && ready.has(p));
      if (kills < o.kills && completed >= at[kills]! && live.length > 0) {
        const victim = live[Math.floor(Math.random() * live.length)]!;
        killed.add(String(victim.pid));
        await victim.kill9();
        kills++;
        say(`kill ${kills}/${o.kills}: pid ${victim.pid} at ${completed}/${total} completed`);
        // The replacement starts in the background (a few seconds of tsx), the others go on.
        spawnOne().catch((e) => say(`replacement failed: ${(e as Error).message}`));
      }
      await sleep(20);
    }
    const seconds = (performance.now() - start) / 1000;
    // A process killed after delivering outcomes but before acking them leaves them in its
    // queue's outbox (the parents got them) until a live worker's sweep delivers them again
    // and acks: their grace is 5 s, sweeps run every second. When the last jobs complete
    // within that time of a kill, give the sweeps that long (30 s on a loaded machine)
    // before stopping the workers; what is still there after it counts as a leftover.
    const outboxed = async () =>
      (await Promise.all(keysOf.flat().map((k) => raw.zcard(k.fout)))).reduce((s, n) => s + n, 0);
    if (done) {
      const drainFrom = performance.now();
      const first = await outboxed();
      let left = first;
      while (left > 0 && performance.now() - drainFrom < 30_000) {
        await sleep(200);
        left = await outboxed();
      }
      if (first > 0)
        say(
          `${first} outcomes were still in outboxes when all jobs had completed; ${left} after ${((performance.now() - drainFrom) / 1000).toFixed(1)} s of sweeps`,
        );
    }
    for (const p of procs) await p.kill9();

    // Every parent: completed, run after all its children, never released twice.
    const runs = new Map<string, string[][]>();
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (!line) continue;
      const f = line.split(' ');
      const list = runs.get(f[2]!) ?? [];
      list.push(f);
      runs.set(f[2]!, list);
    }
    let unfinished = 0;
    let incomplete = 0;
    let doubled = 0;
    let rerunAfterKill = 0;
    const problems: string[] = [];
    // The parents' states through the Queue API (a partitioned Queue finds each one's partition).
    const states: (string | undefined)[] = [];
    for (let from = 0; from < o.flows; from += 200) {
      const ids = Array.from({ length: Math.min(200, o.flows - from) }, (_, k) => from + k);
      states.push(
        ...(await Promise.all(ids.map(async (i) => (await queues[i % 3]!.getJob(`f${i}`))?.state))),
      );
    }
    for (let i = 0; i < o.flows; i++) {
      const id = `f${i}`;
      if (states[i] !== 'completed') {
        unfinished++;
        if (problems.length < 10) problems.push(`${id} did not complete (${states[i] ?? 'no record'})`);
      }
      const list = runs.get(id) ?? [];
      // A completed parent ran, and its run was logged before it returned.
      if (list.length === 0 && states[i] === 'completed' && problems.length < 10)
        problems.push(`${id} completed without a logged run`);
      for (const f of list)
        if (f[4] !== String(KIDS) || f[5] !== String(KIDS) || f[6] !== String(SUM)) {
          incomplete++;
          if (problems.length < 10) problems.push(`${id} ran seeing ${f.slice(4).join(' ')}`);
        }
      if (list.length > 1) {
        const earlier = list.slice(0, -1);
        if (earlier.every((f) => killed.has(f[3]!))) rerunAfterKill += earlier.length;
        else {
          doubled++;
          if (problems.length < 10)
            problems.push(`${id} ran ${list.length} times: ${list.map((f) => f[3]).join(',')}`);
        }
      }
    }
    // Leftovers in every partition's keys. The completed sets of those same keys must hold
    // every job, so the check cannot pass by reading keys nothing was written to.
    let leftovers = 0;
    let completed = 0;
    for (const [qi, parts] of keysOf.entries())
      for (const [pi, k] of parts.entries()) {
        const [inCompleted, failed, deps, blocked, outbox] = await Promise.all([
          raw.zcard(k.completed),
          raw.zcard(k.failed),
          raw.hlen(k.fdeps),
          raw.hlen(k.fblocked),
          raw.zcard(k.fout),
        ]);
        completed += inCompleted;
        leftovers += failed + deps + blocked + outbox;
        const where = parts.length > 1 ? `${names[qi]} partition ${pi}` : names[qi];
        if (partitions > 1 && inCompleted === 0)
          problems.push(`${where}: no completed job (jobs not spread?)`);
        if (failed + deps + blocked + outbox > 0)
          problems.push(
            `${where}: failed ${failed}, waiting-children ${deps}, blocked ${blocked}, outbox ${outbox}`,
          );
      }
    if (completed !== total) problems.push(`the completed sets hold ${completed} jobs, not ${total}`);
    const counted = (await Promise.all(queues.map((q) => q.getCounts()))).reduce(
      (s, c) => s + c.completed,
      0,
    );
    if (counted !== completed) problems.push(`getCounts says ${counted} completed, the keys ${completed}`);
    let recovered = 0;
    for (const p of procs)
      for (const line of p.lines)
        if (line.includes('recovery sweep')) recovered += (JSON.parse(line) as { outcomes: number }).outcomes;
    return {
      flows: o.flows,
      jobs: total,
      kills,
      cluster: cluster !== undefined,
      partitions,
      seconds,
      completed,
      unfinished,
      incomplete,
      doubled,
      rerunAfterKill,
      leftovers,
      recovered,
      problems,
    };
  } finally {
    for (const p of procs) await p.kill9();
    await producer.close();
    await Promise.all(queues.map((q) => q.close()));
    raw.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
