import { ValidationError } from '../util/errors.js';
import { ALGORITHMS, type Algorithm, type OnRedisError, type RateLimiterOptions } from './types.js';

/** Longest key accepted, in UTF-8 bytes: keys are user-derived (IPs, ids) and end up in Redis key names. */
export const MAX_KEY_BYTES = 512;
/** The exact sliding window stores one member per allowed unit: this bounds its memory per key. */
export const MAX_SLIDING_LIMIT = 100_000;

export interface LimiterConfig {
  prefix: string;
  algorithm: Algorithm;
  limit: number;
  window: number;
  /** Most units one check can ever get: `burst` for token bucket and GCRA, else `limit`. */
  capacity: number;
  onRedisError: OnRedisError;
  timeoutMs: number;
  batch: boolean;
  memoryMaxKeys: number;
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ValidationError(field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function validateOptions(opts: RateLimiterOptions): LimiterConfig {
  if (!opts || typeof opts !== 'object') throw new ValidationError('options', 'must be an object');
  if (!ALGORITHMS.includes(opts.algorithm)) {
    throw new ValidationError(
      'algorithm',
      `must be one of ${ALGORITHMS.join(', ')}, got ${JSON.stringify(opts.algorithm)}`,
    );
  }
  const limit = positiveInteger('limit', opts.limit);
  const window = positiveInteger('window', opts.window);
  if (opts.algorithm === 'sliding-window' && limit > MAX_SLIDING_LIMIT) {
    throw new ValidationError(
      'limit',
      `sliding-window keeps one entry per hit: at most ${MAX_SLIDING_LIMIT}`,
    );
  }
  let capacity = limit;
  if (opts.burst !== undefined) {
    if (opts.algorithm !== 'token-bucket' && opts.algorithm !== 'gcra') {
      throw new ValidationError('burst', 'applies to token-bucket and gcra only');
    }
    capacity = positiveInteger('burst', opts.burst);
  }
  const prefix = opts.prefix ?? 'hopper:rl';
  if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix)) {
    throw new ValidationError('prefix', 'must be a non-empty string without { or }');
  }
  const onRedisError = opts.onRedisError ?? 'memory';
  if (onRedisError !== 'open' && onRedisError !== 'closed' && onRedisError !== 'memory') {
    throw new ValidationError(
      'onRedisError',
      `must be 'open', 'closed' or 'memory', got ${String(onRedisError)}`,
    );
  }
  const timeoutMs = positiveInteger('timeoutMs', opts.timeoutMs ?? 200);
  const memoryMaxKeys = positiveInteger('memoryMaxKeys', opts.memoryMaxKeys ?? 100_000);
  return {
    prefix,
    algorithm: opts.algorithm,
    limit,
    window,
    capacity,
    onRedisError,
    timeoutMs,
    batch: opts.batch ?? true,
    memoryMaxKeys,
  };
}

export function validateKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') throw new ValidationError('key', 'must be a non-empty string');
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new ValidationError('key', `must be at most ${MAX_KEY_BYTES} bytes (UTF-8)`);
  }
  return key;
}

export function validateCost(cost: unknown, config: LimiterConfig): number {
  const value = positiveInteger('cost', cost);
  if (value > config.capacity) {
    throw new ValidationError(
      'cost',
      `${value} can never pass: the most one check can get is ${config.capacity}`,
    );
  }
  return value;
}
