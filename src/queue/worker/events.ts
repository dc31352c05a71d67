import type { Job } from '../types.js';

/**
 * The events a Worker emits, each with its listener's arguments. Worker's `on`, `once`,
 * `off` and `emit` are typed from this map (worker.ts), so a misspelt event or a wrong
 * listener signature is a compile error: `worker.on('completed', (job, result) => ...)`.
 */
export interface WorkerEvents<D = unknown, R = unknown> {
  /** A handler started the job. */
  active: [job: Job<D>];
  /** The handler stored a progress value (`job.updateProgress`). */
  progress: [job: Job<D>, value: unknown];
  /** The job's completion was acknowledged (stored in Redis); `result` is what its handler returned. */
  completed: [job: Job<D>, result: R];
  /** An attempt failed and the failure was acknowledged (each attempt, retried or not). */
  failed: [job: Job<D>, error: Error];
  /** The job's outcome was refused: the worker's lease had lapsed and the job went to another worker. */
  lost: [job: Job<D>];
  /** The queue had nothing left for this worker and its jobs ended. */
  drained: [];
  /** worker.pause() took effect: no job starts until resume(). */
  paused: [];
  resumed: [];
  /** A background error (Redis away, a listener that threw); the worker goes on; secrets redacted. */
  error: [error: Error];
}

/** The same map under the name the job-API docs use. */
export type WorkerEventsMap<D = unknown, R = unknown> = WorkerEvents<D, R>;

/** A listener of one Worker event. */
export type WorkerListener<D, R, E extends keyof WorkerEvents<D, R>> = (
  ...args: WorkerEvents<D, R>[E]
) => void;
