import type { Algorithm } from './types.js';

/**
 * Exact sliding windows with a limit up to this keep their log in one packed string (a GET
 * and an APPEND per check, 4 bytes per unit); larger ones in a sorted set (four commands per
 * check, but O(log n) where reading the string is O(n)). Measured in docs/ratelimit.md: the
 * string is the cheaper of the two up to ~512 units in a window, the sorted set from ~1,000.
 */
export const PACKED_LOG_MAX_LIMIT = 512;

/**
 * The packed log stores each unit as 4-byte µs after a base, which a unit up to a window after
 * the oldest one kept must fit: 2^32 µs is 71.6 minutes. Longer windows keep the sorted set.
 */
export const PACKED_LOG_MAX_WINDOW_MS = 3_600_000;

/** How a limiter's state is kept in Redis: its script family and key tag follow from this. */
export type Storage = Algorithm | 'sliding-window-packed';

export function storageOf(algorithm: Algorithm, limit: number, window: number): Storage {
  return algorithm === 'sliding-window' && limit <= PACKED_LOG_MAX_LIMIT && window <= PACKED_LOG_MAX_WINDOW_MS
    ? 'sliding-window-packed'
    : algorithm;
}
