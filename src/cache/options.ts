import type { ConnectionOptions } from '../redis/connection.js';
import { isRestConnection } from '../transport/rest/options.js';
import { ValidationError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { checkTags } from './tags.js';

export interface MemoryOptions {
  /** Most entries kept in process (default 10,000). */
  maxEntries?: number;
  /** Most bytes kept in process, counted as JSON length plus key and a fixed overhead (default 64 MiB). */
  maxBytes?: number;
}

export interface CacheOptions {
  connection?: ConnectionOptions;
  /** Keys of different namespaces never collide; `clear(namespace)` removes one (default `default`). */
  namespace?: string;
  /** Prefix of every Redis key and of the bus channel (default `hopper:cache`). */
  prefix?: string;
  /** The in-process tier, or `false` for none. */
  memory?: MemoryOptions | false;
  /** Default time to live in ms (default 60,000). */
  ttl?: number;
  /** Default grace in ms: how long after expiry the last value is served if the loader fails (default 0). */
  grace?: number;
  /** Values whose JSON is longer than this many bytes are gzip-compressed in Redis (default 8 KiB). */
  compressAbove?: number;
  /** A loader that has not settled after this many ms fails with LoaderTimeoutError (default 10,000). */
  loaderTimeout?: number;
  /** Life of the cross-process loader lock in ms, renewed while the loader runs (default 2,000). */
  lockTtl?: number;
  logger?: Logger;
}

export interface SetOptions {
  ttl?: number;
  grace?: number;
  /** Tags for `invalidateTag` (each a non-empty string of at most 1024 bytes; at most 64). */
  tags?: string[];
}

export interface GetOrSetOptions extends SetOptions {
  /** For this long after expiry, return the stale value at once and refresh it in the background (ms). */
  staleWhileRevalidate?: number;
}

/** How long one entry is fresh and how long after that it may still be served. */
export interface Policy {
  ttl: number;
  grace: number;
  swr: number;
  /** Tags of the entry written (checked, without duplicates). */
  tags?: string[];
}

export const MAX_KEY_BYTES = 1024;
const NAMESPACE = /^[\w.-]{1,128}$/;

export function checkKey(key: unknown, field = 'key'): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new ValidationError(field, 'must be a non-empty string');
  // A UTF-16 unit is at most 3 UTF-8 bytes: short keys skip the byte count on the hot path.
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new ValidationError(field, `must be at most ${MAX_KEY_BYTES} bytes (UTF-8)`);
  return key;
}

export function checkNamespace(ns: unknown): string {
  if (typeof ns !== 'string' || !NAMESPACE.test(ns))
    throw new ValidationError('namespace', 'must be 1-128 characters of letters, digits, _ . -');
  return ns;
}

/** A whole number of ms > 0 (ttl) or >= 0 (grace windows). */
export function checkMs(value: unknown, field: string, allowZero: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ValidationError(field, 'must be a finite number of milliseconds');
  if (allowZero ? value < 0 : value <= 0)
    throw new ValidationError(field, allowZero ? 'must not be negative' : 'must be greater than 0');
  // Redis PX takes whole ms; rounding up keeps a 0.5 ms ttl from becoming 0.
  return Math.ceil(value);
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new ValidationError(field, 'must be a positive integer');
  return value;
}

export interface Settings {
  namespace: string;
  prefix: string;
  memory: { maxEntries: number; maxBytes: number } | false;
  defaults: Policy;
  compressAbove: number;
  loaderTimeout: number;
  lockTtl: number;
}

export function resolveSettings(o: CacheOptions): Settings {
  const prefix = o.prefix ?? 'hopper:cache';
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.includes('|'))
    throw new ValidationError('prefix', 'must be a non-empty string without "|"');
  const memory =
    // Over REST no invalidation reaches other processes' memory: off unless asked for.
    o.memory === false || (o.memory === undefined && isRestConnection(o.connection))
      ? false
      : {
          maxEntries: positiveInt(o.memory?.maxEntries ?? 10_000, 'memory.maxEntries'),
          maxBytes: positiveInt(o.memory?.maxBytes ?? 64 * 1024 * 1024, 'memory.maxBytes'),
        };
  // JSON over REST carries text only: no compression there unless asked for.
  const compressAbove =
    o.compressAbove ?? (isRestConnection(o.connection) ? Number.POSITIVE_INFINITY : 8 * 1024);
  if (typeof compressAbove !== 'number' || !(compressAbove >= 0))
    throw new ValidationError('compressAbove', 'must be a number of bytes >= 0 (Infinity: never)');
  return {
    namespace: checkNamespace(o.namespace ?? 'default'),
    prefix,
    memory,
    defaults: {
      ttl: checkMs(o.ttl ?? 60_000, 'ttl', false),
      grace: checkMs(o.grace ?? 0, 'grace', true),
      swr: 0,
    },
    compressAbove,
    loaderTimeout: checkMs(o.loaderTimeout ?? 10_000, 'loaderTimeout', false),
    lockTtl: checkMs(o.lockTtl ?? 2_000, 'lockTtl', false),
  };
}

/** The per-call policy: call options over the cache's defaults, each checked. */
export function resolvePolicy(defaults: Policy, o: GetOrSetOptions | undefined): Policy {
  if (!o) return defaults;
  const policy: Policy = {
    ttl: o.ttl === undefined ? defaults.ttl : checkMs(o.ttl, 'ttl', false),
    grace: o.grace === undefined ? defaults.grace : checkMs(o.grace, 'grace', true),
    swr:
      o.staleWhileRevalidate === undefined
        ? defaults.swr
        : checkMs(o.staleWhileRevalidate, 'staleWhileRevalidate', true),
  };
  if (o.tags !== undefined) {
    const tags = checkTags(o.tags);
    if (tags.length > 0) policy.tags = tags;
  }
  return policy;
}
