/** Counters kept per queue, per minute, per day and in total. */
export const COUNTERS = [
  'added',
  'completed',
  'failed',
  'retried',
  'stalled',
  'rl_hits',
  'rl_blocked',
] as const;
export type Counter = (typeof COUNTERS)[number];

/** The two timings kept as histograms: execution (handler time) and wait (added to started). */
export type Timing = 'exec' | 'wait';

export interface MetricsOptions {
  /** Days of per-day metrics and of the failed-jobs list kept (keys expire). Default 7. */
  retentionDays?: number;
  /** Hours of per-minute metrics kept. Default 24. */
  minuteRetentionHours?: number;
  /** Failed jobs kept, newest first (1..1000: one flush pushes at most this many through Lua unpack). Default 100. */
  failedJobsKept?: number;
  /** How often the in-process aggregate is written, ms. Default 1000. */
  flushMs?: number;
}

/** A failed job as kept in the failed-jobs list: the error and enough context to act on it. */
export interface FailedJobRecord {
  id: string;
  name: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  /** ms since epoch. */
  failedAt: number;
  error: { name: string; message: string; stack?: string };
  /** The job's data as JSON, cut to DATA_PREVIEW_CHARS characters. */
  data?: string;
}

/** A timing histogram summarised, in ms. */
export interface TimingSummary {
  count: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
}

/** One queue's metrics over a window (the seed's summary fields first). */
export interface QueueMetrics {
  queue: string;
  /** The window: whole UTC days (today included) or minutes (this one included). */
  window: { days?: number; minutes?: number; from: string; to: string };
  totalJobs: number;
  completedJobs: number;
  failedJobs: number;
  retriedJobs: number;
  stalledJobs: number;
  avgExecutionTime: number;
  p50ExecutionTime: number;
  p95ExecutionTime: number;
  p99ExecutionTime: number;
  execution: TimingSummary;
  wait: TimingSummary;
  rateLimit: { hits: number; blocked: number };
  /** The newest failed jobs (up to `failures` asked, default 10). */
  recentFailures: FailedJobRecord[];
}
