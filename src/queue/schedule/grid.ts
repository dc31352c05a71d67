import { Cron } from 'croner';
import type { Repeat } from './types.js';

/** The tick times of a schedule: `after(t)` is the first tick strictly after t (ms), or null if none. */
export interface Grid {
  after(t: number): number | null;
}

/**
 * `every` ticks sit on a fixed grid, anchor + k * every, the anchor being startAt
 * or else the epoch (every 15 s ticks at :00, :15, ...), so ticks stay on the same
 * times across restarts and updates. Cron ticks are croner's, in the time zone given,
 * else UTC: never a process's own zone, or schedulers on machines set to different
 * zones would disagree on the next tick.
 */
export function gridOf(repeat: Repeat, startAt: number | undefined): Grid {
  if ('every' in repeat) {
    const every = repeat.every;
    const anchor = startAt ?? 0;
    return {
      after: (t) => (t < anchor ? anchor : anchor + (Math.floor((t - anchor) / every) + 1) * every),
    };
  }
  const cron = new Cron(repeat.cron, { timezone: repeat.tz ?? 'UTC', paused: true });
  return {
    after(t) {
      const from = startAt !== undefined && t < startAt ? startAt - 1 : t;
      return cron.nextRun(new Date(from))?.getTime() ?? null;
    },
  };
}
