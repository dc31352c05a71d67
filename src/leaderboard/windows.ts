/** A leaderboard's time windows: all time, the UTC day, the ISO week (Monday to Sunday, UTC). */
export type Window = 'all' | 'daily' | 'weekly';
export const WINDOWS: readonly Window[] = ['all', 'daily', 'weekly'];

/** Days a daily key is kept, weeks a weekly key: enough to read yesterday's and last week's board. */
export const KEEP_DAYS = 8;
export const KEEP_WEEKS = 5;

const DAY_MS = 86_400_000;

/** `2026-12-06` for the UTC day of `at`. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** `2026-W49`: the ISO 8601 week of `at` (UTC), whose year is that of the week's Thursday. */
export function weekOf(at: Date): string {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  const thursday = new Date(day + (3 - weekday) * DAY_MS);
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = 1 + Math.floor((thursday.getTime() - yearStart) / DAY_MS / 7);
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The key suffix of a window at a time, and how long (s) that key is kept (0: forever). */
export function windowKey(window: Window, at: Date): { suffix: string; ttl: number } {
  if (window === 'daily') return { suffix: `day:${dayOf(at)}`, ttl: KEEP_DAYS * 86_400 };
  if (window === 'weekly') return { suffix: `week:${weekOf(at)}`, ttl: KEEP_WEEKS * 7 * 86_400 };
  return { suffix: 'all', ttl: 0 };
}
