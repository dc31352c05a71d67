import type { JobOptions } from '../types.js';

/** How often a schedule ticks: a fixed interval, or a cron expression (5 or 6 fields) in a time zone (default UTC). */
export type Repeat = { every: number } | { cron: string; tz?: string };

/** The job each tick makes: what `queue.add(name, data, opts)` would take, less `jobId` and `dedup`. */
export interface ScheduleTemplate<D = unknown> {
  name: string;
  data?: D;
  opts?: Omit<JobOptions, 'jobId' | 'dedup'>;
}

/**
 * What to do with ticks missed while no scheduler ran (a tick more than MISFIRE_MS late):
 * `one` makes one job for all of them, `skip` makes none; both then resume on the grid.
 */
export type CatchUp = 'one' | 'skip';

export interface ScheduleOptions {
  /** No tick before this time (ms since epoch or Date); also the anchor of an `every` grid. */
  startAt?: number | Date;
  /** No tick after this time; the schedule ends once its next tick would pass it. */
  endAt?: number | Date;
  /** The schedule ends after making this many jobs. */
  limit?: number;
  /** Default `one`. */
  catchUp?: CatchUp;
}

/** The stored form of a schedule: validated, times in ms, options merged with the queue's defaults. */
export interface ScheduleSpec {
  repeat: Repeat;
  name: string;
  opts: JobOptions;
  data: unknown;
  startAt?: number;
  endAt?: number;
  limit?: number;
  catchUp: CatchUp;
}

/** One schedule as `queue.schedules()` lists it. */
export interface ScheduleInfo<D = unknown> {
  id: string;
  repeat: Repeat;
  template: { name: string; data: D; opts: JobOptions };
  startAt?: number;
  endAt?: number;
  limit?: number;
  catchUp: CatchUp;
  /** Jobs made since the schedule was created or last changed. */
  made: number;
  /** Time of the next tick (ms since epoch, Redis clock). */
  next: number;
}
