import type { Job } from '../types.js';

/** A Worker's events, typed: `worker.on('completed', (job, result) => ...)`. */
export interface WorkerEventsMap<D = unknown, R = unknown> {
  /** A handler started the job. */
  active: [job: Job<D>];
  /** The handler stored a progress value (`job.updateProgress`). */
  progress: [job: Job<D>, value: unknown];
  /** The job's completion was acknowledged (stored in Redis). */
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
  /** A background error (Redis away, a listener that threw); the worker goes on. */
  error: [error: Error];
}
