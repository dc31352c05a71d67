import type { Redis } from 'ioredis';
import { integerOption } from '../queue/worker/options.js';
import { BUCKETS, quantile } from './buckets.js';
import { dayKey, dayOf, failedKey, minuteKey, minuteOf, totalKey } from './keys.js';
import { bucketField, sumField } from './tally.js';
import type { FailedJobRecord, QueueMetrics, Timing, TimingSummary } from './types.js';

export interface ReadMetricsOptions {
  /** Whole UTC days, today included (1..retention). Default 7 unless `minutes` is given. */
  days?: number;
  /** Instead of days: the last N minutes, this one included (1..1440). */
  minutes?: number;
  /** Newest failed jobs to include. Default 10. */
  failures?: number;
  /** For tests: the clock. */
  now?: number;
}

const DAY_MS = 24 * 3600_000;
export const MAX_DAYS = 3650;

/** Summed hash fields of a window (counters, histogram buckets, sums). */
export type Fields = Map<string, number>;

/**
 * One queue's metrics over the last `days` days (or `minutes` minutes): one pipeline
 * of HGETALLs over the window's keys and one LRANGE of the failed list. Cost grows
 * with the window, never with the number of jobs.
 */
export async function readMetrics(
  client: Redis,
  tag: string,
  queue: string,
  opts: ReadMetricsOptions = {},
): Promise<QueueMetrics> {
  return readMetricsOf([{ client, tag }], queue, opts);
}

/**
 * One logical queue's metrics summed over several tags (a partitioned queue's partitions):
 * counters and histogram buckets add up, so the percentiles are those of all jobs. One
 * pipeline per tag (a pipeline may not span Cluster slots).
 */
export async function readMetricsOf(
  parts: { client: Redis; tag: string }[],
  queue: string,
  opts: ReadMetricsOptions = {},
): Promise<QueueMetrics> {
  const now = opts.now ?? Date.now();
  const failures = integerOption('failures', opts.failures, 10, 0, 1000);
  const keysOf: ((tag: string) => string)[] = [];
  let window: QueueMetrics['window'];
  if (opts.minutes !== undefined) {
    const minutes = integerOption('minutes', opts.minutes, 60, 1, 1440);
    const last = minuteOf(now);
    for (let m = last - minutes + 1; m <= last; m++) keysOf.push((tag) => minuteKey(tag, m));
    window = {
      minutes,
      from: new Date((last - minutes + 1) * 60_000).toISOString(),
      to: new Date(now).toISOString(),
    };
  } else {
    const days = integerOption('days', opts.days, 7, 1, MAX_DAYS);
    for (let d = days - 1; d >= 0; d--) keysOf.push((tag) => dayKey(tag, dayOf(now - d * DAY_MS)));
    window = { days, from: dayOf(now - (days - 1) * DAY_MS), to: dayOf(now) };
  }
  const fields: Fields = new Map();
  const failed: FailedJobRecord[] = [];
  await Promise.all(
    parts.map(async ({ client, tag }) => {
      const pipeline = client.pipeline();
      for (const k of keysOf) pipeline.hgetall(k(tag));
      if (failures > 0) pipeline.lrange(failedKey(tag), 0, failures - 1);
      const replies = (await pipeline.exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
      for (let i = 0; i < keysOf.length; i++) addFields(fields, replies[i]![1] as Record<string, string>);
      if (failures > 0)
        for (const j of replies[keysOf.length]![1] as string[]) failed.push(JSON.parse(j) as FailedJobRecord);
    }),
  );
  // Each tag's list is newest first; merged, the newest `failures` of all.
  if (parts.length > 1) failed.sort((a, b) => b.failedAt - a.failedAt);
  return summarise(queue, window, fields, failed.slice(0, failures));
}

/** All-time fields of a queue (the `total` hash): what Prometheus counters come from. */
export async function readTotals(client: Redis, tag: string): Promise<Fields> {
  const fields: Fields = new Map();
  addFields(fields, await client.hgetall(totalKey(tag)));
  return fields;
}

export function addFields(into: Fields, hash: Record<string, string>): void {
  for (const [f, v] of Object.entries(hash)) into.set(f, (into.get(f) ?? 0) + Number(v));
}

/** A histogram's counts per bucket, read from summed fields. */
export function histogram(fields: Fields, t: Timing): Float64Array {
  const counts = new Float64Array(BUCKETS);
  for (let k = 0; k < BUCKETS; k++) counts[k] = fields.get(bucketField(t, k)) ?? 0;
  return counts;
}

export function timingSummary(fields: Fields, t: Timing): TimingSummary {
  const counts = histogram(fields, t);
  let count = 0;
  for (const c of counts) count += c;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    count,
    avg: count ? round((fields.get(sumField(t)) ?? 0) / 1000 / count) : 0,
    p50: round(quantile(counts, 0.5)),
    p95: round(quantile(counts, 0.95)),
    p99: round(quantile(counts, 0.99)),
  };
}

function summarise(
  queue: string,
  window: QueueMetrics['window'],
  f: Fields,
  recentFailures: FailedJobRecord[],
): QueueMetrics {
  const n = (field: string) => f.get(field) ?? 0;
  const execution = timingSummary(f, 'exec');
  return {
    queue,
    window,
    totalJobs: n('added'),
    completedJobs: n('completed'),
    failedJobs: n('failed'),
    retriedJobs: n('retried'),
    stalledJobs: n('stalled'),
    avgExecutionTime: execution.avg,
    p50ExecutionTime: execution.p50,
    p95ExecutionTime: execution.p95,
    p99ExecutionTime: execution.p99,
    execution,
    wait: timingSummary(f, 'wait'),
    rateLimit: { hits: n('rl_hits'), blocked: n('rl_blocked') },
    recentFailures,
  };
}
