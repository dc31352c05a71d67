/** What every library gets: same counts, same payload, same job options. Env overrides are for quick trials. */

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

export const settings = {
  /** Jobs per enqueue, bulk and process-c100 measurement. */
  jobs: envInt('BENCH_JOBS', 50_000),
  /** Jobs for process-c1, as the issue asks (same for all libraries; BENCH_C1_JOBS lowers it for quick runs). */
  c1Jobs: envInt('BENCH_C1_JOBS', 50_000),
  /** Untimed jobs before the timed window (JIT, script cache, connections). */
  warmupJobs: envInt('BENCH_WARMUP_JOBS', 1_000),
  /** add() calls in flight at all times during `enqueue`. */
  inFlight: 100,
  /** Jobs per addBulk call. */
  bulkChunk: 1_000,
  /** Producer rate, worker concurrency and duration of the `latency` case. */
  latencyRate: 1_000,
  latencyConcurrency: 10,
  latencyWarmupSeconds: 1,
  latencySeconds: 5,
  /** Retries on, completed jobs removed, failed jobs kept. */
  attempts: 3,
  backoffMs: 1_000,
  /** Fresh child processes per (library, case). */
  runs: envInt('BENCH_RUNS', 3),
  /** A child running longer than this is killed and reported as a timeout. */
  runTimeoutMs: envInt('BENCH_TIMEOUT_MS', 120_000),
} as const;
