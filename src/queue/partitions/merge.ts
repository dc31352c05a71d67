import { ValidationError } from '../../util/errors.js';
import type { JobCounts, JobInfo, JobState, QueueLimits, RateLimit } from '../types.js';

export function sumCounts(all: JobCounts[]): JobCounts {
  const total: JobCounts = {
    waiting: 0,
    delayed: 0,
    active: 0,
    reserved: 0,
    completed: 0,
    failed: 0,
    waitingChildren: 0,
  };
  for (const c of all) for (const k of Object.keys(total) as (keyof JobCounts)[]) total[k] += c[k];
  return total;
}

/**
 * One page of a state merged from every partition's first `end + 1` jobs: waiting by
 * priority then age (each partition runs its own line, so this is the order across
 * partitions only roughly), delayed by due time, finished newest first.
 */
export function mergeJobs<D, R>(state: JobState, lists: JobInfo<D, R>[][], start: number, end: number) {
  const all = lists.flat();
  const pri = (j: JobInfo<D, R>) => j.opts.priority ?? 0;
  if (state === 'waiting') all.sort((a, b) => pri(b) - pri(a) || a.timestamp - b.timestamp);
  else if (state === 'delayed') all.sort((a, b) => (a.delayUntil ?? 0) - (b.delayUntil ?? 0));
  else if (state === 'completed' || state === 'failed')
    all.sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0));
  return all.slice(start, end === -1 ? undefined : end + 1);
}

/** Splits `total` over n partitions: shares differ by at most one and sum to total. */
export function share(total: number, n: number, i: number): number {
  return Math.floor(total / n) + (i < total % n ? 1 : 0);
}

/**
 * A queue-wide limit spread over the partitions: partition i gets share(limit, n, i) of
 * the concurrency and of the rate's max (same duration). A limit below n cannot be split
 * (a partition with 0 would never run a job): refused, naming the field.
 */
export function splitLimits(limits: QueueLimits, n: number, i: number): QueueLimits {
  if (typeof limits !== 'object' || limits === null) return limits;
  const out: QueueLimits = { ...limits };
  if (typeof limits.concurrency === 'number') {
    if (Number.isInteger(limits.concurrency) && limits.concurrency < n)
      throw new ValidationError(
        'concurrency',
        `must be at least the queue's partitions (${n}): each partition takes an equal share, got ${limits.concurrency}`,
      );
    if (Number.isInteger(limits.concurrency)) out.concurrency = share(limits.concurrency, n, i);
  }
  const rate = limits.rate as RateLimit | null | undefined;
  if (rate && typeof rate === 'object' && typeof rate.max === 'number' && Number.isInteger(rate.max)) {
    if (rate.max < n)
      throw new ValidationError(
        'rate.max',
        `must be at least the queue's partitions (${n}): each partition takes an equal share, got ${rate.max}`,
      );
    out.rate = { ...rate, max: share(rate.max, n, i) };
  }
  return out;
}

/** The queue-wide limits back from the partitions' shares: concurrency and rate max summed. */
export function sumLimits(all: QueueLimits[]): QueueLimits {
  const first = all[0]!;
  const out: QueueLimits = { ...first };
  if (typeof first.concurrency === 'number')
    out.concurrency = all.reduce((s, l) => s + (l.concurrency ?? 0), 0);
  if (first.rate) out.rate = { ...first.rate, max: all.reduce((s, l) => s + (l.rate?.max ?? 0), 0) };
  return out;
}
