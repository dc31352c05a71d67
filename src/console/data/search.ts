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

/**
 * By id (one lookup), or a plain substring of the name or the data (bounded scan).
 * `parts`: the queue's keys, or a partitioned queue's partitions' keys. A partitioned
 * queue is scanned partition after partition, SEARCH_BUDGET records per request as for
 * a plain queue: its cursor is `<partition>:<HSCAN cursor>`.
 */
export async function searchJobs(
  client: Redis,
  parts: QueueKeys | QueueKeys[],
  by: unknown,
  text: unknown,
  cursor: unknown,
): Promise<SearchResult> {
  const all = Array.isArray(parts) ? parts : [parts];
  if (by !== 'id' && by !== 'name' && by !== 'data')
    throw new ValidationError('by', "must be 'id', 'name' or 'data'");
  if (typeof text !== 'string' || text.length === 0 || text.length > 200)
    throw new ValidationError('text', 'must be 1 to 200 characters');
  const [part, start] = parseCursor(cursor, all.length);
  const total = (await Promise.all(all.map((k) => client.hlen(k.jobs)))).reduce((a, b) => a + b, 0);
  if (by === 'id') {
    const found = (await Promise.all(all.map((k) => client.hexists(k.jobs, text)))).some((n) => n === 1);
    return { ids: found ? [text] : [], scanned: 1, total, cursor: null };
  }
  const needle = by === 'name' ? JSON.stringify(text).slice(1, -1) : text;
  const [next, scanned, ...ids] = await oneAtATime(() =>
    callScript<[string, number, ...string[]]>(
      client,
      'search-jobs',
      [all[part]!.jobs],
      [start, SEARCH_BUDGET, by, needle, MAX_HITS],
    ),
  );
  let after: string | null;
  if (all.length === 1) after = next === '0' ? null : next;
  else if (next !== '0') after = `${part}:${next}`;
  else after = part + 1 < all.length ? `${part + 1}:0` : null;
  return { ids, scanned, total, cursor: after };
}

/** A plain queue's cursor is HSCAN's; a partitioned queue's, `<partition>:<HSCAN cursor>`. */
function parseCursor(cursor: unknown, n: number): [number, string] {
  if (cursor === undefined || cursor === null) return [0, '0'];
  const m = typeof cursor === 'string' ? /^(?:(\d{1,4}):)?(\d{1,20})$/.exec(cursor) : null;
  const part = m?.[1] === undefined ? 0 : Number(m[1]);
  if (!m || n > 1 !== (m[1] !== undefined) || part >= n)
    throw new ValidationError('cursor', 'must be the cursor a previous search returned');
  return [part, m[2]!];
}
