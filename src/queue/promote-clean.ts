import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { JobStateError, ValidationError } from '../util/errors.js';
import type { QueueKeys } from './keys.js';
import { scriptKeys } from './script-keys.js';

/** Jobs one promote-job.lua or clean-finished.lua call handles, so Redis never blocks long. */
const BATCH = 1000;
/** At most this many ids per clean() call: the ids come back in one reply. */
const MAX_CLEAN = 100_000;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600_000;

/** Moves delayed job `id` into line now. */
export async function promoteJob(client: Redis, k: QueueKeys, id: string): Promise<void> {
  if (typeof id !== 'string' || id === '') throw new ValidationError('id', 'must be a non-empty string');
  const r = await callScript<number>(client, 'promote-job', scriptKeys(k), ['id', id]);
  if (r === -1) throw new JobStateError(`job ${id} is not delayed: only delayed jobs are promoted`);
  if (r === 0) throw new JobStateError(`job ${id} does not exist`);
}

/** Moves every delayed job into line now, in due order; returns how many. */
export async function promoteAllJobs(client: Redis, k: QueueKeys): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await callScript<number>(client, 'promote-job', scriptKeys(k), ['all', BATCH]);
    total += n;
    if (n < BATCH) return total;
  }
}

/** Deletes up to `limit` jobs of `state` that finished at least `olderThanMs` ago; returns their ids. */
export async function cleanFinished(
  client: Redis,
  k: QueueKeys,
  state: unknown,
  olderThanMs: unknown,
  limit: unknown,
): Promise<string[]> {
  if (state !== 'completed' && state !== 'failed')
    throw new ValidationError('state', `must be 'completed' or 'failed', got ${JSON.stringify(state)}`);
  if (
    !Number.isSafeInteger(olderThanMs) ||
    (olderThanMs as number) < 0 ||
    (olderThanMs as number) > TEN_YEARS_MS
  )
    throw new ValidationError('olderThanMs', `must be an integer from 0 to ${TEN_YEARS_MS} (10 years)`);
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_CLEAN)
    throw new ValidationError('limit', `must be an integer from 1 to ${MAX_CLEAN}`);
  const removed: string[] = [];
  let rank = 0;
  while (rank !== -1 && removed.length < (limit as number)) {
    const want = (limit as number) - removed.length;
    const [next, ...ids] = await callScript<[number, ...string[]]>(client, 'clean-finished', scriptKeys(k), [
      state,
      olderThanMs as number,
      want,
      rank,
      BATCH,
    ]);
    removed.push(...ids);
    rank = next;
  }
  return removed;
}
