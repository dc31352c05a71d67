import type { Redis } from 'ioredis';
import { dayKey, dayOf, minuteKey, minuteOf } from '../../metrics/keys.js';
import { addFields, type Fields, timingSummary } from '../../metrics/reader.js';
import { ValidationError } from '../../util/errors.js';

export type ChartRange = 'hour' | 'day' | 'week';

export interface ChartPoint {
  /** Start of the point's interval, ms. */
  t: number;
  completed: number;
  failed: number;
  wait: { p50: number; p95: number; p99: number };
  run: { p50: number; p95: number; p99: number };
}

const DAY_MS = 86_400_000;

/** Keys read per point and the point's start, per range: 60 minutes, 24 hours of 60 minutes, 7 days. */
function plan(range: ChartRange, now: number): { t: number; keys: (tag: string) => string[] }[] {
  const m = minuteOf(now);
  if (range === 'hour')
    return Array.from({ length: 60 }, (_, i) => ({
      t: (m - 59 + i) * 60_000,
      keys: (tag) => [minuteKey(tag, m - 59 + i)],
    }));
  if (range === 'day')
    return Array.from({ length: 24 }, (_, i) => {
      const first = m - (23 - i) * 60 - 59;
      return {
        t: first * 60_000,
        keys: (tag) => Array.from({ length: 60 }, (_, j) => minuteKey(tag, first + j)),
      };
    });
  return Array.from({ length: 7 }, (_, i) => {
    const day = dayOf(now - (6 - i) * DAY_MS);
    return { t: Date.parse(day), keys: (tag) => [dayKey(tag, day)] };
  });
}

/**
 * Completed and failed counts and wait/run percentiles per point, from the metric hashes
 * the workers keep: 60 keys for an hour, 1,440 for a day (minute hashes, kept 24 h), 7 for
 * a week. The cost depends on the range only, never on the number of jobs.
 *
 * `tags`: the queue's hash tag, or a partitioned queue's partitions' tags. Their hashes are
 * summed field by field before anything is computed: counts add up, and so do the
 * histograms' buckets, so a point's percentiles are exactly those of all the partitions'
 * jobs together (not an average of per-partition percentiles). One pipeline per tag (a
 * pipeline may not span Cluster slots), all at once: N partitions cost N times the keys.
 */
export async function readChart(
  client: Redis,
  tags: string | string[],
  range: unknown,
): Promise<ChartPoint[]> {
  if (range !== 'hour' && range !== 'day' && range !== 'week')
    throw new ValidationError('range', "must be 'hour', 'day' or 'week'");
  const points = plan(range, Date.now());
  const fields: Fields[] = points.map(() => new Map());
  await Promise.all(
    (Array.isArray(tags) ? tags : [tags]).map(async (tag) => {
      const p = client.pipeline();
      const sizes = points.map((pt) => {
        const keys = pt.keys(tag);
        for (const k of keys) p.hgetall(k);
        return keys.length;
      });
      const replies = (await p.exec()) ?? [];
      let i = 0;
      sizes.forEach((size, n) => {
        for (let j = 0; j < size; j++) {
          const [err, hash] = replies[i++]!;
          if (err) throw err;
          addFields(fields[n]!, hash as Record<string, string>);
        }
      });
    }),
  );
  return points.map((pt, n) => {
    const pick = (t: 'wait' | 'exec') => {
      const s = timingSummary(fields[n]!, t);
      return { p50: s.p50, p95: s.p95, p99: s.p99 };
    };
    return {
      t: pt.t,
      completed: fields[n]!.get('completed') ?? 0,
      failed: fields[n]!.get('failed') ?? 0,
      wait: pick('wait'),
      run: pick('exec'),
    };
  });
}
