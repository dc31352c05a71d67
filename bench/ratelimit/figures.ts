/** What one bench/ratelimit/measure.ts run reports, and the workload both sides share. */
export interface LimitFigures {
  checksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  allowedShare: number;
  nodeUsPerCheck: number;
}

export const LIMIT = 100;
export const WINDOW_MS = 1000;
export const KEYS = 1000;
export const IN_FLIGHT = 100;
export const WARMUP_MS = 500;
export const DURATION_MS = 2000;
