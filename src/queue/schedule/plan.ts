import type { Grid } from './grid.js';
import type { ScheduleSpec } from './types.js';

/**
 * A tick later than this when a scheduler reaches it was missed: no scheduler ran
 * (every process was down, or Redis was). Later ticks within it are only late (a
 * busy event loop) and each still makes its job.
 */
export const MISFIRE_MS = 5000;

export interface TickPlan {
  /** Make a job for this tick. */
  job: boolean;
  /** The following tick, or -1: the schedule ends (endAt passed, or limit reached). */
  next: number;
}

/**
 * What firing the due `tick` does. On time: its job, then the next tick on the
 * grid (which may be due too: a short stall is caught up tick by tick). Missed:
 * one job for all missed ticks (`catchUp: 'one'`) or none (`'skip'`), then the first
 * tick after now, so a long outage never turns into a burst.
 */
export function planTick(spec: ScheduleSpec, grid: Grid, tick: number, now: number, made: number): TickPlan {
  const missed = now - tick > MISFIRE_MS;
  const job = !missed || spec.catchUp === 'one';
  let next = grid.after(missed ? now : tick) ?? -1;
  if (spec.endAt !== undefined && next > spec.endAt) next = -1;
  if (spec.limit !== undefined && made + (job ? 1 : 0) >= spec.limit) next = -1;
  return { job, next };
}

/**
 * The first tick of a new or changed schedule: on its grid, at or after now, but
 * no later than a tick the old spec had due and not fired yet (so an update at
 * tick time neither loses that tick nor adds one), and after the last tick fired
 * (so no job id repeats). Null when no tick falls before endAt.
 */
export function firstTick(
  spec: ScheduleSpec,
  grid: Grid,
  now: number,
  oldNext: number | undefined,
  lastTick: number,
): number | null {
  const from = Math.max(Math.min(now, oldNext ?? now), lastTick + 1);
  const first = grid.after(from - 1);
  if (first === null || (spec.endAt !== undefined && first > spec.endAt)) return null;
  return first;
}
