import { PACKED_LOG_MAX_LIMIT } from '../../src/ratelimit/storage.js';

/** What one bench/ratelimit/measure.ts run reports, and the workload both sides share. */
export interface LimitFigures {
  checksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  allowedShare: number;
  nodeUsPerCheck: number;
  /** redis-server CPU (INFO used_cpu_user + used_cpu_sys) per check over the timed window, µs. */
  redisUsPerCheck: number;
}

export const LIMIT = 100;
/**
 * The same traffic against an exact sliding window above PACKED_LOG_MAX_LIMIT (sorted-set
 * storage), for a same-run comparison of the two layouts.
 */
export const ZSET_LIMIT = PACKED_LOG_MAX_LIMIT + 1;
export const WINDOW_MS = 1000;
export const KEYS = 1000;
export const IN_FLIGHT = 100;
export const WARMUP_MS = 500;
export const DURATION_MS = 2000;
