import type { Redis } from 'ioredis';
import type { ConnectionOptions } from '../redis/connection.js';

export const ALGORITHMS = [
  'fixed-window',
  'sliding-window',
  'sliding-window-approx',
  'token-bucket',
  'gcra',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** What to answer when Redis is unreachable or slower than `timeoutMs`. */
export type OnRedisError = 'open' | 'closed' | 'memory';

export interface RateLimiterOptions {
  /** A Redis URL, ioredis options, or an ioredis client to share (then `close()` leaves it open). */
  connection?: ConnectionOptions | Redis;
  /** Key prefix; becomes the hash tag `{prefix}` of every key. Default `hopper:rl`. */
  prefix?: string;
  algorithm: Algorithm;
  /** Checks (units of cost) allowed per window. For token bucket and GCRA: the refill rate per window. */
  limit: number;
  /** Window length in ms. */
  window: number;
  /** Token bucket and GCRA: how many checks may pass back to back (bucket capacity). Default `limit`. */
  burst?: number;
  /** Default `'memory'`: a per-process limiter with the same algorithm stands in. */
  onRedisError?: OnRedisError;
  /** A check that Redis has not answered after this many ms gets the `onRedisError` answer. Default 200. */
  timeoutMs?: number;
  /** Coalesce checks made in the same event-loop turn into one script call. Default true (measured faster). */
  batch?: boolean;
  /** The memory stand-in forgets the least recently written keys beyond this many. Default 100,000. */
  memoryMaxKeys?: number;
  /** Called (with a redacted error) each time a call falls back to the `onRedisError` answer. */
  onFallback?: (error: Error) => void;
}

export interface LimitOptions {
  /** Units this check consumes. Default 1. */
  cost?: number;
}

export interface LimitResult {
  allowed: boolean;
  /** The configured limit (checks per window). */
  limit: number;
  /** Units still available right after this check. */
  remaining: number;
  /** Ms until the key's state is back to full (nothing counted against it). */
  resetMs: number;
  /** Ms until a check of the same cost could pass; 0 when allowed. */
  retryAfterMs: number;
}
