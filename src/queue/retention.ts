import type { RetentionOptions } from './types.js';

/** Finished jobs are kept only as asked: by default completed ones for a day (at most 1,000), failed ones a week (at most 10,000). */
export const DEFAULT_KEEP_COMPLETED: RetentionOptions = { age: 24 * 3600_000, count: 1000 };
export const DEFAULT_KEEP_FAILED: RetentionOptions = { age: 7 * 24 * 3600_000, count: 10_000 };

/** What the scripts take: keep age ms (0: no limit) and keep count (-1: no limit, 0: delete at once). */
export function retentionArgs(r: RetentionOptions): [age: number, count: number] {
  if (r === true) return [0, 0];
  if (r === false) return [0, -1];
  if (typeof r === 'number') return [0, r];
  return [r.age ?? 0, r.count ?? -1];
}
