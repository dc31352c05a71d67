import type { BackoffOptions } from './types.js';
import { MAX_DELAY_MS } from './validate.js';

/**
 * Delay before the next attempt after `attemptsMade` failures (1 after the first).
 * Exponential doubles from `delay`; jitter takes up to that fraction off at random,
 * so a burst of failures does not retry in lockstep.
 */
export function backoffDelay(backoff: BackoffOptions | undefined, attemptsMade: number): number {
  if (backoff === undefined) return 0;
  if (typeof backoff === 'number') return backoff;
  // Capped: doubling over many attempts would pass what a Redis score holds exactly, then Infinity.
  const base = Math.min(
    MAX_DELAY_MS,
    backoff.type === 'exponential' ? backoff.delay * 2 ** (attemptsMade - 1) : backoff.delay,
  );
  const jitter = backoff.jitter ?? 0;
  return Math.round(base * (1 - jitter * Math.random()));
}
