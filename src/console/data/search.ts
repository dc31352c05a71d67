import type { Redis } from 'ioredis';
import type { QueueKeys } from '../../queue/keys.js';
import { callScript } from '../../redis/scripts.js';
import { ValidationError } from '../../util/errors.js';

/** Job records one search request looks at, at most: bounded Redis time per request (a few ms on an idle machine). */
export const SEARCH_BUDGET = 1000;

/** Searches of this process run one at a time: Redis never runs two console scans at once. */
let line: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = line.then(work, work);
  line = run.catch(() => {});
  return run;
}
const MAX_HITS = 50;

export interface SearchResult {
  ids: string[];
  /** Records looked at by this request. */
  scanned: number;
  /** Jobs the queue holds (records), for "looked at N of M". */
  total: number;
  /** Pass back to go on; null when the whole queue was looked at. */
  cursor: string | null;
}

/** By id (one lookup), or a plain substring of the name or the data (bounded scan). */
export async function searchJobs(
  client: Redis,
  k: QueueKeys,
  by: unknown,
  text: unknown,
  cursor: unknown,
): Promise<SearchResult> {
  if (by !== 'id' && by !== 'name' && by !== 'data')
    throw new ValidationError('by', "must be 'id', 'name' or 'data'");
  if (typeof text !== 'string' || text.length === 0 || text.length > 200)
    throw new ValidationError('text', 'must be 1 to 200 characters');
  const start = cursor === undefined || cursor === null ? '0' : cursor;
  if (typeof start !== 'string' || !/^\d{1,20}$/.test(start))
    throw new ValidationError('cursor', 'must be the cursor a previous search returned');
  const total = await client.hlen(k.jobs);
  if (by === 'id') {
    const found = (await client.hexists(k.jobs, text)) === 1;
    return { ids: found ? [text] : [], scanned: 1, total, cursor: null };
  }
  const needle = by === 'name' ? JSON.stringify(text).slice(1, -1) : text;
  const [next, scanned, ...ids] = await oneAtATime(() =>
    callScript<[string, number, ...string[]]>(
      client,
      'search-jobs',
      [k.jobs],
      [start, SEARCH_BUDGET, by, needle, MAX_HITS],
    ),
  );
  return { ids, scanned, total, cursor: next === '0' ? null : next };
}
