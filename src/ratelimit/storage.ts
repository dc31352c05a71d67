import type { Algorithm } from './types.js';

/**
 * Exact sliding windows with a limit up to this keep their log in one packed string (GET +
 * SET per check); larger ones in a sorted set (four commands per check, but O(log n) where
 * the string is O(n)). Measured in docs/ratelimit.md: the string is the cheaper of the two
 * while a window holds up to ~130 units, the sorted set beyond ~200.
 */
export const PACKED_LOG_MAX_LIMIT = 128;

/** How a limiter's state is kept in Redis: its script family and key tag follow from this. */
export type Storage = Algorithm | 'sliding-window-packed';

export function storageOf(algorithm: Algorithm, limit: number): Storage {
  return algorithm === 'sliding-window' && limit <= PACKED_LOG_MAX_LIMIT
    ? 'sliding-window-packed'
    : algorithm;
}
