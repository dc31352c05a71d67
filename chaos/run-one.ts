import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis } from '../test/helpers/redis-server.js';
import { check, type Figures } from './checker.js';
import { readLog } from './log.js';
import { Nemesis } from './nemesis.js';
import { Pool } from './processes.js';
import { makeSchedule } from './schedule.js';
import type { Settings } from './settings.js';
import { loadTarget } from './targets/index.js';
import type { TargetName } from './targets/types.js';

export interface RunResult {
  target: TargetName;
  seed: number;
  settings: Settings;
  figures: Figures;
  faults: ReturnType<Nemesis['counts']>;
  /** Child processes that exited without being killed (a crash), with their stderr. */
  crashed: string[];
  /** ms from the end of the producers to an empty queue, or undefined if it never emptied. */
  drainedInMs?: number;
}

/** Progress lines go to stderr, so stdout holds only the report. */
function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Processes that exited though nobody killed them, with the end of their stderr. */
function exitedOnTheirOwn(pool: Pool): string[] {
  return pool.all
    .filter((p) => !p.killed && !p.child.running)
    .map((p) => `${p.name}: ${p.child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

/**
 * One run: a private redis-server with AOF, producers and workers as processes,
 * the seed's faults, a quiet period, the drain, then the checker over the logs
 * and the final Redis state.
 */
export async function runOnce(
  target: TargetName,
  seed: number,
  s: Settings,
  keep = false,
): Promise<RunResult> {
  const redis = await startRedis({ aof: true });
  const dir = mkdtempSync(join(tmpdir(), `hopper-chaos-${target}-${seed}-`));
  const queue = `chaos-${seed}`;
  const common = { TARGET: target, REDIS_URL: redis.url, QUEUE: queue };
  const workers = new Pool('worker', s.workers, dir, (_name, log) => ({
    ...common,
    LOG: log,
    CONCURRENCY: String(s.concurrency),
    LEASE_MS: String(s.leaseMs),
    JOB_MIN_MS: String(s.jobMs[0]),
    JOB_MAX_MS: String(s.jobMs[1]),
  }));
  const producers = new Pool('producer', s.producers, dir, (name, log) => ({
    ...common,
    LOG: log,
    PRODUCER_ID: name,
    RATE: String(s.ratePerProducer),
    INFLIGHT: String(s.inflight),
  }));
  const nemesis = new Nemesis(redis, workers, producers);
  const inspector = await (await loadTarget(target)).inspector(redis.url, queue);
  try {
    await workers.startAll();
    await producers.startAll();
    const schedule = makeSchedule(seed, s);
    say(
      `chaos: ${target} seed ${seed}: ${schedule.length} faults over ${s.chaosMs / 1000} s (logs in ${dir})`,
    );
    nemesis.start(schedule);
    await sleep(s.chaosMs);
    await nemesis.stop();
    await workers.settle();
    await producers.settle();
    say(`chaos: ${target} seed ${seed}: faults over, quiet for ${s.quietMs / 1000} s`);
    await sleep(s.quietMs);
    const crashed = exitedOnTheirOwn(producers);
    await producers.terminate();

    const drainStart = Date.now();
    let drainedInMs: number | undefined;
    while (Date.now() - drainStart < s.drainMs) {
      if ((await inspector.pending()) === 0) {
        drainedInMs = Date.now() - drainStart;
        break;
      }
      await sleep(250);
    }
    const stored = await inspector.jobs();

    crashed.push(...exitedOnTheirOwn(workers));
    // Beside the processes' logs, for --keep: which fault happened when.
    writeFileSync(join(dir, 'faults.log'), nemesis.log.map((a) => JSON.stringify(a)).join('\n'));
    const aliveAtEnd = new Set(workers.all.filter((p) => p.child.running).map((p) => p.name));
    await workers.terminate();

    const figures = check({
      producers: producers.all.map((p) => readLog(p.log)),
      workers: workers.all.map((p) => ({
        name: p.name,
        lines: readLog(p.log),
        aliveAtEnd: aliveAtEnd.has(p.name),
      })),
      stored,
      lastRedisUpAt: nemesis.redisUpAt.at(-1),
    });
    return { target, seed, settings: s, figures, faults: nemesis.counts(), crashed, drainedInMs };
  } finally {
    await nemesis.stop();
    await workers.terminate();
    await producers.terminate();
    await inspector.close().catch(() => {});
    await nemesis.close();
    await redis.stop();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
