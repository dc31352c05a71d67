import type { Job } from '../types.js';

/**
 * The events a Worker emits, each with its listener's arguments. Worker's `on`, `once`,
 * `off` and `emit` are typed from this map (worker.ts), so a misspelt event or a wrong
 * listener signature is a compile error.
 */
export interface WorkerEvents<D = unknown, R = unknown> {
  /** A job's handler returned; `result` is what it returned (stored as the job's result). */
  completed: [job: Job<D>, result: R];
  /** An attempt failed (thrown, timed out); emitted for every failed attempt, retried or not. */
  failed: [job: Job<D>, error: Error];
  /** A problem the worker recovers from (Redis away, a listener that threw); secrets redacted. */
  error: [error: Error];
  /** The queue had nothing left for this worker. */
  drained: [];
  /** The job's outcome was rejected because its lease had lapsed (another worker may run it). */
  lost: [job: Job<D>];
}

/** A listener of one Worker event. */
export type WorkerListener<D, R, E extends keyof WorkerEvents<D, R>> = (
  ...args: WorkerEvents<D, R>[E]
) => void;
