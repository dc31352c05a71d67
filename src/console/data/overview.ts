import type { Redis } from 'ioredis';
import { minuteKey, minuteOf } from '../../metrics/keys.js';
import { queueKeys, registryKey } from '../../queue/keys.js';
import { partitionNames } from '../../queue/partitions/layout.js';
import { readPartitionCounts } from '../../queue/partitions/registry.js';
import { callScript } from '../../redis/scripts.js';
import { durabilityWarnings, parseInfo, type ServerFacts } from '../../redis/server-check.js';

/** Queues shown on the overview at most (sorted by name); the rest are counted, not read. */
export const MAX_OVERVIEW_QUEUES = 500;
/** Minutes in each queue's throughput sparkline. */
export const SPARK_MINUTES = 30;

/** One queue's `queue-overview.lua` call: its keys, and the sparkline minutes it reads. */
interface Plan {
  name: string;
  /** The queue's partition count when partitioned, else null. */
  partitions: number | null;
  keys: string[];
  cache: Map<number, [number, number]>;
  wanted: number[];
}
type Reply = (number | string | null)[];

export interface QueueOverview {
  name: string;
  counts: {
    waiting: number;
    delayed: number;
    active: number;
    reserved: number;
    completed: number;
    failed: number;
    /** Flow parents waiting for their children (docs/flows.md). */
    waitingChildren: number;
  };
  paused: boolean;
  /** Workers holding a live lease on the queue. */
  workers: number;
  /** ms since the oldest ungrouped waiting job was added; null when none waits. */
  oldestWaitMs: number | null;
  /** Completed and failed per minute, oldest first, the current minute last. */
  completed: number[];
  failed: number[];
  /** failed / (completed + failed) over the sparkline's window; null without any. */
  failureRate: number | null;
  /** Jobs wait or run but no worker holds a lease. */
  noWorker: boolean;
  /** A partitioned queue's partition count (its row sums them all); null for a plain queue. */
  partitions: number | null;
}

export interface RedisOverview {
  version: string;
  usedMemory: string;
  maxmemory: string;
  maxmemoryPolicy: string;
  aof: boolean;
  rdb: boolean;
  role: string;
  uptimeSeconds: number;
  connectedClients: number;
  opsPerSec: number;
  warnings: string[];
}

export interface Overview {
  at: number;
  queues: QueueOverview[];
  /** Registered queues left out past MAX_OVERVIEW_QUEUES. */
  hidden: number;
  redis: RedisOverview;
}

/**
 * Reads the overview: one `queue-overview.lua` call per queue (a fixed number of O(1)
 * commands, whatever the number of jobs), all queues' calls at once. Each call stays
 * within its queue's hash tag, so on Redis Cluster each goes to its own node; no
 * pipeline spans queues. Past minutes of the sparklines do not change once over
 * (metrics are flushed within seconds), so each is read once and kept here; every
 * snapshot reads only the current and the previous minute.
 */
export class OverviewReader {
  private readonly minutes = new Map<string, Map<number, [number, number]>>();

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async read(): Promise<Overview> {
    const all = (await this.client.smembers(registryKey(this.prefix))).sort();
    const names = all.slice(0, MAX_OVERVIEW_QUEUES);
    // A partitioned queue is read partition by partition and shown as one row (mergeRows).
    const partitioned = await readPartitionCounts(this.client, this.prefix);
    const reads = names.flatMap((name): { name: string; part: string; partitions: number | null }[] => {
      const n = partitioned.get(name);
      return n
        ? partitionNames(this.prefix, name, n).map((part) => ({ name, part, partitions: n }))
        : [{ name, part: name, partitions: null }];
    });
    const now = Date.now();
    const plans = reads.map(({ name, part, partitions }) => this.plan(name, part, partitions, now));
    const [replies, info] = await Promise.all([this.call(plans, now), this.client.info().then(parseInfo)]);
    const queues = mergeRows(plans.map((plan, i) => this.build(plan, replies[i]!, now)));
    const facts = await this.facts(info);
    return { at: now, queues, hidden: all.length - names.length, redis: redisOverview(info, facts) };
  }

  /**
   * The queues' script calls. On Redis Cluster one call per queue, all at once (ioredis sends
   * each to its queue's node); a pipeline may not span hash tags there. On a single Redis
   * they go in one pipeline: one socket write instead of one per queue, whose system calls
   * were most of the overview's Node time on a busy machine.
   */
  private async call(plans: Plan[], now: number): Promise<Reply[]> {
    if ((this.client as { isCluster?: boolean }).isCluster)
      return Promise.all(plans.map((p) => callScript<Reply>(this.client, 'queue-overview', p.keys, [now])));
    const p = this.client.pipeline() as unknown as Record<string, (...a: unknown[]) => void> & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const plan of plans) p['queue-overview']!(plan.keys.length, ...plan.keys, now);
    const replies = (await p.exec()) ?? [];
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value as Reply;
    });
  }

  /** The call for one queue, or for one partition (`part`) of a partitioned queue `name`. */
  private plan(name: string, part: string, partitions: number | null, now: number): Plan {
    const k = queueKeys(this.prefix, part);
    const current = minuteOf(now);
    const cache = this.minutesOf(part, current);
    const wanted: number[] = [];
    for (let m = current - SPARK_MINUTES + 1; m <= current; m++)
      if (m >= current - 1 || !cache.has(m)) wanted.push(m);
    const keys = [k.wait, k.waitp, k.delayed, k.active, k.completed, k.failed, k.gwait, k.gnext];
    keys.push(k.reserved, k.meta, k.workers, k.jobs, k.fdeps, ...wanted.map((m) => minuteKey(k.tag, m)));
    return { name, partitions, keys, cache, wanted };
  }

  private build({ name, partitions, cache, wanted }: Plan, r: Reply, now: number): QueueOverview {
    const current = minuteOf(now);
    const num = (n: number) => Number(r[n] ?? 0);
    const reserved = Math.min(num(3), num(8));
    const counts = {
      waiting: num(0) + num(1) + num(6) + num(7),
      delayed: num(2),
      active: num(3) - reserved,
      reserved,
      completed: num(4),
      failed: num(5),
      waitingChildren: num(12),
    };
    wanted.forEach((m, j) => {
      cache.set(m, [num(13 + 2 * j), num(14 + 2 * j)]);
    });
    const completed: number[] = [];
    const failed: number[] = [];
    for (let m = current - SPARK_MINUTES + 1; m <= current; m++) {
      const [c, f] = cache.get(m) ?? [0, 0];
      completed.push(c);
      failed.push(f);
    }
    const sumC = completed.reduce((a, b) => a + b, 0);
    const sumF = failed.reduce((a, b) => a + b, 0);
    const workers = num(10);
    const oldest = r[11];
    return {
      name,
      counts,
      paused: num(9) === 1,
      workers,
      oldestWaitMs: oldest ? Math.max(0, now - Number(oldest)) : null,
      completed,
      failed,
      failureRate: sumC + sumF > 0 ? sumF / (sumC + sumF) : null,
      noWorker: workers === 0 && counts.waiting + counts.active > 0,
      partitions,
    };
  }

  private saveChecked = 0;
  private rdbSaves: boolean | undefined;

  /** Durability facts from INFO; `CONFIG GET save` (may be refused on managed services) once a minute. */
  private async facts(info: Map<string, string>): Promise<ServerFacts> {
    if (Date.now() - this.saveChecked > 60_000) {
      this.saveChecked = Date.now();
      try {
        this.rdbSaves = Boolean(((await this.client.config('GET', 'save')) as string[])[1]);
      } catch {
        this.rdbSaves = info.get('rdb_last_save_time') !== undefined;
      }
    }
    return {
      version: info.get('redis_version') ?? info.get('dragonfly_version') ?? 'unknown',
      maxmemoryPolicy: info.get('maxmemory_policy') ?? 'unknown',
      aofEnabled: info.get('aof_enabled') === '1',
      rdbSaves: this.rdbSaves ?? true,
      role: info.get('role') ?? 'unknown',
    };
  }

  private minutesOf(name: string, current: number): Map<number, [number, number]> {
    let m = this.minutes.get(name);
    if (!m) {
      m = new Map();
      this.minutes.set(name, m);
    }
    for (const minute of m.keys()) if (minute <= current - SPARK_MINUTES) m.delete(minute);
    return m;
  }
}

function redisOverview(info: Map<string, string>, facts: ServerFacts): RedisOverview {
  return {
    version: facts.version,
    usedMemory: info.get('used_memory_human') ?? 'unknown',
    maxmemory: info.get('maxmemory_human') ?? 'unknown',
    maxmemoryPolicy: facts.maxmemoryPolicy,
    aof: facts.aofEnabled,
    rdb: facts.rdbSaves,
    role: facts.role,
    uptimeSeconds: Number(info.get('uptime_in_seconds') ?? 0),
    connectedClients: Number(info.get('connected_clients') ?? 0),
    opsPerSec: Number(info.get('instantaneous_ops_per_sec') ?? 0),
    warnings: durabilityWarnings(facts),
  };
}

/** Rows of one name (a partitioned queue's partitions) summed into one row. */
function mergeRows(rows: QueueOverview[]): QueueOverview[] {
  const out: QueueOverview[] = [];
  for (const row of rows) {
    const last = out[out.length - 1];
    if (!last || last.name !== row.name) {
      out.push(row);
      continue;
    }
    for (const k of Object.keys(last.counts) as (keyof QueueOverview['counts'])[])
      last.counts[k] += row.counts[k];
    last.paused &&= row.paused;
    last.workers = Math.max(last.workers, row.workers); // a partitioned worker leases every partition
    if (row.oldestWaitMs !== null) last.oldestWaitMs = Math.max(last.oldestWaitMs ?? 0, row.oldestWaitMs);
    last.completed = last.completed.map((c, i) => c + row.completed[i]!);
    last.failed = last.failed.map((f, i) => f + row.failed[i]!);
    const c = last.completed.reduce((a, b) => a + b, 0);
    const f = last.failed.reduce((a, b) => a + b, 0);
    last.failureRate = c + f > 0 ? f / (c + f) : null;
    last.noWorker = last.workers === 0 && last.counts.waiting + last.counts.active > 0;
  }
  return out;
}
