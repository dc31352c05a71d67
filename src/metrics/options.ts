import { integerOption } from '../queue/worker/options.js';
import type { MetricsOptions } from './types.js';

export interface MetricsConfig {
  retentionMs: number;
  minuteRetentionMs: number;
  failedJobsKept: number;
  flushMs: number;
}

const DAY_MS = 24 * 3600_000;

/** Checks the `metrics` option of a Queue or Worker; a bad value names the field. */
export function metricsConfig(opts: MetricsOptions = {}): MetricsConfig {
  if (typeof opts !== 'object' || opts === null) opts = {};
  return {
    retentionMs: integerOption('metrics.retentionDays', opts.retentionDays, 7, 1, 3650) * DAY_MS,
    minuteRetentionMs:
      integerOption('metrics.minuteRetentionHours', opts.minuteRetentionHours, 24, 1, 24 * 90) * 3600_000,
    failedJobsKept: integerOption('metrics.failedJobsKept', opts.failedJobsKept, 100, 1, 1000),
    flushMs: integerOption('metrics.flushMs', opts.flushMs, 1000, 10, 60_000),
  };
}

/** The `metrics` option of a Queue or Worker, checked before anything connects: undefined when false. */
export function metricsOption(option: boolean | MetricsOptions | undefined): MetricsConfig | undefined {
  if (option === false) return undefined;
  return metricsConfig(option === true || option === undefined ? {} : option);
}

/** A day key lives a whole day past the retention, so the oldest day in the window is complete. */
export const dayTtlMs = (c: MetricsConfig) => c.retentionMs + DAY_MS;
