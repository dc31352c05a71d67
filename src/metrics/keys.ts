/**
 * Metric keys of one queue. All share the queue's hash tag `{prefix:name}` (see
 * queue/keys.ts), so one script call updates them all, in Cluster too. The client
 * computes the minute and day names from its clock; a flush straddling a minute
 * boundary lands in the minute it started (at most one flush interval off).
 */
export interface MetricKeys {
  /** HASH counters and histograms of one minute: `<tag>:metrics:min:<unix minute>`. */
  minute: string;
  /** HASH counters and histograms of one UTC day: `<tag>:metrics:day:<YYYY-MM-DD>`. */
  day: string;
  /** HASH counters and histograms since the queue's first job, never expired: Prometheus counters. */
  total: string;
  /** LIST of the last N failed jobs (JSON), newest first. */
  failed: string;
}

export const minuteOf = (ms: number) => Math.floor(ms / 60_000);
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export const minuteKey = (tag: string, minute: number) => `${tag}:metrics:min:${minute}`;
export const dayKey = (tag: string, day: string) => `${tag}:metrics:day:${day}`;
export const totalKey = (tag: string) => `${tag}:metrics:total`;
export const failedKey = (tag: string) => `${tag}:metrics:failed`;

export function metricKeys(tag: string, now: number): MetricKeys {
  return {
    minute: minuteKey(tag, minuteOf(now)),
    day: dayKey(tag, dayOf(now)),
    total: totalKey(tag),
    failed: failedKey(tag),
  };
}
