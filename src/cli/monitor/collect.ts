import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { registryKey } from '../../queue/keys.js';
import { readPartitionCounts } from '../../queue/partitions/registry.js';
import type { Queue } from '../../queue/queue.js';
import type { JobCounts } from '../../queue/types.js';
import { durabilityWarnings, parseInfo, readServerFacts } from '../../redis/server-check.js';
import type { SpoolReport } from '../../spool/report.js';
import { HopperError } from '../../util/errors.js';
import { loadEngine } from '../engine.js';
import { cliLogger } from '../logger.js';
import type { Target } from '../target.js';
import { readQueueSpools } from './spools.js';

/**
 * Per-minute metrics read for rates and percentiles: this minute and the one before, so the
 * figures follow what happens now (a 5-minute average lagged minutes behind a burst) while
 * always spanning at least a full minute (this minute alone is seconds old at its start).
 */
export const RATE_MINUTES = 2;

export interface QueueSnapshot {
  name: string;
  counts: JobCounts;
  paused: boolean;
  /** Per minute, over the RATE_MINUTES window (the time it really spans). */
  completedPerMin: number;
  failedPerMin: number;
  /** ms; 0 when no job was timed in the window. */
  waitP95: number;
  runP95: number;
}

export interface Snapshot {
  at: string;
  redis: { pingMs: number; usedMemory: string; warnings: string[] };
  queues: QueueSnapshot[];
  /** Registered names a Queue refused (old or foreign data), shown rather than hidden. */
  skipped: string[];
  /** Queues named on the command line that no producer or worker has registered (yet). */
  unregistered: string[];
  /** Producers' spools holding calls, as they report them to Redis (src/spool/report.ts), per queue. */
  spools?: { queue: string; reports: SpoolReport[] }[];
}

/**
 * Reads everything one refresh shows. Queues are opened once and kept (one client each
 * would be a connection per queue per refresh); names come from the registry each time,
 * so queues created while the monitor runs appear.
 */
export class Collector {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly client: Redis,
    private readonly target: Target,
    private readonly prefix: string,
    private readonly only: string[],
  ) {}

  /** Partition counts of partitioned queues, read with the registry (a partitioned queue is one row). */
  private partitions = new Map<string, number>();

  private async names(): Promise<{ names: string[]; unregistered: string[] }> {
    const registered = (await this.client.smembers(registryKey(this.prefix))).sort();
    this.partitions = await readPartitionCounts(this.client, this.prefix);
    if (this.only.length === 0) return { names: registered, unregistered: [] };
    // Shown anyway (a queue may be watched before its first job), but a typo must be visible.
    return { names: this.only, unregistered: this.only.filter((n) => !registered.includes(n)) };
  }

  private async queue(name: string): Promise<Queue> {
    let queue = this.queues.get(name);
    if (!queue) {
      const { Queue } = await loadEngine();
      queue = new Queue(name, {
        connection: this.target.url,
        prefix: this.prefix,
        logger: cliLogger(),
        partitions: this.partitions.get(name),
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async snapshot(): Promise<Snapshot> {
    const start = performance.now();
    await this.client.ping();
    const pingMs = performance.now() - start;
    const memory = parseInfo(await this.client.info('memory'));
    const facts = await readServerFacts(this.client);
    const queues: QueueSnapshot[] = [];
    const skipped: string[] = [];
    const { names, unregistered } = await this.names();
    for (const name of names) {
      let queue: Queue;
      try {
        queue = await this.queue(name);
      } catch (err) {
        // Named on the command line: the user must hear it's invalid; from the registry: skip it.
        if (!(err instanceof HopperError) || this.only.length > 0) throw err;
        skipped.push(name);
        continue;
      }
      const [counts, paused, metrics] = await Promise.all([
        queue.getCounts(),
        queue.isPaused(),
        queue.getMetrics({ minutes: RATE_MINUTES, failures: 0 }),
      ]);
      // The window is whole past minutes plus the current one so far: divide by what elapsed.
      const minutes = Math.max(1 / 60, (Date.now() - Date.parse(metrics.window.from)) / 60_000);
      queues.push({
        name,
        counts,
        paused,
        completedPerMin: metrics.completedJobs / minutes,
        failedPerMin: metrics.failedJobs / minutes,
        waitP95: metrics.wait.p95,
        runP95: metrics.execution.p95,
      });
    }
    const spools = await readQueueSpools(
      this.client,
      this.prefix,
      queues.map((q) => q.name),
    );
    return {
      spools,
      at: new Date().toISOString(),
      redis: {
        pingMs,
        usedMemory: memory.get('used_memory_human') ?? 'unknown',
        warnings: durabilityWarnings(facts),
      },
      queues,
      skipped,
      unregistered,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
