/** The cache benchmark's cases and what a measurement reports (shared by run.ts and measure.ts). */
export const CASES = ['mem-get', 'redis-get', 'getorset-mem', 'getorset-redis'] as const;
export type Case = (typeof CASES)[number];

export interface CacheFigures {
  /** Calls per second over the timed window. */
  rate: number;
  calls: number;
  /** Node CPU (process.cpuUsage, user + system) per call over the timed window, µs. */
  nodeUsPerCall: number;
  /** redis-server CPU (INFO used_cpu_user + used_cpu_sys) per call over the timed window, µs. */
  redisUsPerCall: number;
  /** Loader calls (getOrSet cases): at most one per key is the ideal. */
  loaderCalls?: number;
}
