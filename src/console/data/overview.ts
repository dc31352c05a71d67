import type { Redis } from 'ioredis';
import { minuteKey, minuteOf } from '../../metrics/keys.js';
import { type QueueKeys, queueKeys, registryKey } from '../../queue/keys.js';
import { partitionNames } from '../../queue/partitions/layout.js';
import { readPartitionCounts } from '../../queue/partitions/registry.js';
import { durabilityWarnings, parseInfo, type ServerFacts } from '../../redis/server-check.js';

/** Queues shown on the overview at most (sorted by name); the rest are counted, not read. */
export const MAX_OVERVIEW_QUEUES = 500;
/** Minutes in each queue's throughput sparkline. */
export const SPARK_MINUTES = 30;

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
 * Reads the overview: a fixed number of O(1) commands per queue in one pipeline,
 * whatever the number of jobs. Past minutes of the sparklines do not change once
 * over (metrics are flushed within seconds), so each is read once and kept here;
 * every snapshot reads only the current and the previous minute.
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
    const reads = names.flatMap((name) => {
      const n = partitioned.get(name);
      return n
        ? partitionNames(this.prefix, name, n).map((part) => ({ name, part }))
        : [{ name, part: name }];
    });
    const now = Date.now();
    const current = minuteOf(now);
    const p = this.client.pipeline();
    const plans = reads.map(({ name, part }) => {
      const k = queueKeys(this.prefix, part);
      p.llen(k.wait).zcard(k.waitp).zcard(k.delayed).hlen(k.active).zcard(k.completed).zcard(k.failed);
      p.zcard(k.gwait).hlen(k.gnext).hvals(k.reserved).hexists(k.meta, 'paused');
      p.zcount(k.workers, now, '+inf');
      callScriptOn(p, k);
      p.hlen(k.fdeps);
      const cache = this.minutesOf(part, current);
      const wanted: number[] = [];
      for (let m = current - SPARK_MINUTES + 1; m <= current; m++)
        if (m >= current - 1 || !cache.has(m)) wanted.push(m);
      for (const m of wanted) p.hmget(minuteKey(k.tag, m), 'completed', 'failed');
      return { name, k, cache, wanted };
    });
    const replies = (await p.exec()) ?? [];
    const info = parseInfo(await this.client.info());
    const facts = await this.facts(info);
    let i = 0;
    const queues: QueueOverview[] = [];
    for (const plan of plans) {
      const v = (n: number) => {
        const [err, value] = replies[i + n]!;
        if (err) throw err;
        return value;
      };
      const num = (n: number) => Number(v(n));
      const held = (v(8) as string[]).reduce((s, x) => s + Number(x), 0);
      const reserved = Math.min(num(3), held);
      const counts = {
        waiting: num(0) + num(1) + num(6) + num(7),
        delayed: num(2),
        active: num(3) - reserved,
        reserved,
        completed: num(4),
        failed: num(5),
        waitingChildren: num(12),
      };
      const oldest = v(11) as number | null;
      const workers = num(10);
      const paused = num(9) === 1;
      plan.wanted.forEach((m, j) => {
        const [c, f] = v(13 + j) as (string | null)[];
        plan.cache.set(m, [Number(c ?? 0), Number(f ?? 0)]);
      });
      i += 13 + plan.wanted.length;
      const completed: number[] = [];
      const failed: number[] = [];
      for (let m = current - SPARK_MINUTES + 1; m <= current; m++) {
        const [c, f] = plan.cache.get(m) ?? [0, 0];
        completed.push(c);
        failed.push(f);
      }
      const sumC = completed.reduce((a, b) => a + b, 0);
      const sumF = failed.reduce((a, b) => a + b, 0);
      queues.push({
        name: plan.name,
        counts,
        paused,
        workers,
        oldestWaitMs: oldest ? Math.max(0, now - Number(oldest)) : null,
        completed,
        failed,
        failureRate: sumC + sumF > 0 ? sumF / (sumC + sumF) : null,
        noWorker: workers === 0 && counts.waiting + counts.active > 0,
      });
    }
    return {
      at: now,
      queues: mergeRows(queues),
      hidden: all.length - names.length,
      redis: redisOverview(info, facts),
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

function callScriptOn(p: ReturnType<Redis['pipeline']>, k: QueueKeys): void {
  // A pipeline carries the defined script like any command (defineScripts on the client).
  (p as unknown as Record<string, (...a: unknown[]) => void>)['oldest-waiting']!(3, k.wait, k.waitp, k.jobs);
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
