import type { Durability } from '../redis/scripts.js';
import { MAX_TRACESTATE, TRACEPARENT } from '../tracing/carrier-format.js';
import { ValidationError } from '../util/errors.js';
import {
  type BackoffOptions,
  type GroupLimits,
  type JobOptions,
  MAX_GROUP_LENGTH,
  MAX_PRIORITY,
  type QueueLimits,
  type RateLimit,
  type RetentionOptions,
} from './types.js';

/**
 * Checks a job's options before anything is written. Each problem throws a
 * ValidationError naming the field (`opts.delay`, `jobs[2].opts.priority`).
 */
const KNOWN = new Set([
  'owner',
  'priority',
  'delay',
  'attempts',
  'backoff',
  'jobId',
  'dedup',
  'timeout',
  'removeOnComplete',
  'removeOnFail',
  'group',
  'trace',
]);

const DEDUP_MODES = ['throttle', 'debounce', 'until-done'];

/** The longest attempt timeout: Node's timers hold at most 2^31-1 ms (about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/**
 * The longest delay, backoff, dedup ttl and retention age: 10 years. Due times are
 * Redis-clock ms plus these, and must stay integers that Redis scores, Lua numbers
 * and PX arguments hold exactly.
 */
export const MAX_DELAY_MS = 10 * 365 * 24 * 3600_000;

/** An object literal or JSON object: a class instance or a `{ __proto__: ... }` literal would lend inherited options. */
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

function integer(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new ValidationError(field, `must be an integer, got ${show(v)}`);
  if (v < min || v > max) throw new ValidationError(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  return typeof v === 'object'
    ? v === null
      ? 'null'
      : Array.isArray(v)
        ? 'an array'
        : 'an object'
    : String(v);
}

function onlyKeys(field: string, obj: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      throw new ValidationError(`${field}.${key}`, `unknown option (allowed: ${allowed.join(', ')})`);
  }
}

export function validateBackoff(field: string, v: unknown): BackoffOptions {
  if (typeof v === 'number') return integer(field, v, 0, MAX_DELAY_MS);
  if (!isPlainObject(v))
    throw new ValidationError(field, `must be a number of ms or { type, delay, jitter }, got ${show(v)}`);
  onlyKeys(field, v, ['type', 'delay', 'jitter']);
  if (v.type !== 'fixed' && v.type !== 'exponential') {
    throw new ValidationError(`${field}.type`, `must be "fixed" or "exponential", got ${show(v.type)}`);
  }
  integer(`${field}.delay`, v.delay, 0, MAX_DELAY_MS);
  if (v.jitter !== undefined && (typeof v.jitter !== 'number' || !(v.jitter >= 0 && v.jitter <= 1))) {
    throw new ValidationError(`${field}.jitter`, `must be a number from 0 to 1, got ${show(v.jitter)}`);
  }
  return v as BackoffOptions;
}

export function validateRetention(field: string, v: unknown): RetentionOptions {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return integer(field, v, 0);
  if (!isPlainObject(v))
    throw new ValidationError(field, `must be true, a count, or { age, count }, got ${show(v)}`);
  onlyKeys(field, v, ['age', 'count']);
  if (v.age !== undefined) integer(`${field}.age`, v.age, 1, MAX_DELAY_MS);
  if (v.count !== undefined) integer(`${field}.count`, v.count, 0);
  return v as RetentionOptions;
}

export function validateJobOptions(field: string, opts: unknown): JobOptions {
  if (opts === undefined) return {};
  if (!isPlainObject(opts)) throw new ValidationError(field, `must be an object, got ${show(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key)) throw new ValidationError(`${field}.${key}`, 'unknown option');
  }
  const o = opts as JobOptions & Record<string, unknown>;
  if (o.priority !== undefined) integer(`${field}.priority`, o.priority, 0, MAX_PRIORITY);
  if (o.delay !== undefined) integer(`${field}.delay`, o.delay, 0, MAX_DELAY_MS);
  if (o.attempts !== undefined) integer(`${field}.attempts`, o.attempts, 1, 1_000_000);
  if (o.backoff !== undefined) validateBackoff(`${field}.backoff`, o.backoff);
  if (o.timeout !== undefined) integer(`${field}.timeout`, o.timeout, 0, MAX_TIMEOUT_MS);
  if (o.jobId !== undefined) {
    if (typeof o.jobId !== 'string' || o.jobId.length === 0 || o.jobId.length > 256) {
      throw new ValidationError(`${field}.jobId`, 'must be a non-empty string of at most 256 characters');
    }
    // Scripts join ids with a control character (see split.lua).
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    if (/[\x00-\x1f]/.test(o.jobId))
      throw new ValidationError(`${field}.jobId`, 'must not contain control characters');
    // All-digit ids are reserved for generated ids, so the two can never collide.
    if (/^\d+$/.test(o.jobId))
      throw new ValidationError(`${field}.jobId`, 'must not be all digits (reserved for generated ids)');
  }
  if (o.dedup !== undefined) {
    validateDedup(`${field}.dedup`, o.dedup);
    if (o.dedup.mode === 'debounce' && o.delay !== undefined)
      throw new ValidationError(
        `${field}.delay`,
        'cannot be combined with dedup mode debounce (the job waits dedup.ttl)',
      );
  }
  if (o.group !== undefined) validateGroup(`${field}.group`, o.group);
  if (o.removeOnComplete !== undefined) validateRetention(`${field}.removeOnComplete`, o.removeOnComplete);
  if (o.removeOnFail !== undefined) validateRetention(`${field}.removeOnFail`, o.removeOnFail);
  if (o.trace !== undefined) validateTrace(`${field}.trace`, o.trace);
  if (o.owner !== undefined && (typeof o.owner !== 'string' || o.owner.length === 0 || o.owner.length > 200))
    throw new ValidationError(`${field}.owner`, 'must be a non-empty string of at most 200 characters');
  return o;
}

/** A trace carrier in the one shape the worker reads: W3C traceparent, optional tracestate. */
function validateTrace(field: string, t: unknown): void {
  if (!isPlainObject(t)) throw new ValidationError(field, 'must be { traceparent, tracestate }');
  onlyKeys(field, t, ['traceparent', 'tracestate']);
  if (typeof t.traceparent !== 'string' || !TRACEPARENT.test(t.traceparent))
    throw new ValidationError(
      `${field}.traceparent`,
      `must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got ${show(t.traceparent)}`,
    );
  if (
    t.tracestate !== undefined &&
    (typeof t.tracestate !== 'string' || t.tracestate.length > MAX_TRACESTATE)
  )
    throw new ValidationError(
      `${field}.tracestate`,
      `must be a string of at most ${MAX_TRACESTATE} characters`,
    );
}

function validateDedup(field: string, d: unknown): void {
  if (!isPlainObject(d)) throw new ValidationError(field, 'must be { key, ttl, mode }');
  onlyKeys(field, d, ['key', 'ttl', 'mode']);
  if (typeof d.key !== 'string' || d.key.length === 0 || d.key.length > 512) {
    throw new ValidationError(`${field}.key`, 'must be a non-empty string of at most 512 characters');
  }
  if (d.mode !== undefined && !DEDUP_MODES.includes(d.mode as string))
    throw new ValidationError(
      `${field}.mode`,
      `must be one of ${DEDUP_MODES.join(', ')}, got ${show(d.mode)}`,
    );
  if (d.mode === 'until-done') {
    if (d.ttl !== undefined) throw new ValidationError(`${field}.ttl`, 'does not apply to mode until-done');
    return;
  }
  integer(`${field}.ttl`, d.ttl, 1, MAX_DELAY_MS);
}

/** Group names travel inside sorted-set members split at byte 0, and are capped in length. */
export function validateGroup(field: string, g: unknown): string {
  if (typeof g !== 'string' || g.length === 0 || g.length > MAX_GROUP_LENGTH)
    throw new ValidationError(field, `must be a non-empty string of at most ${MAX_GROUP_LENGTH} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\x00-\x1f]/.test(g)) throw new ValidationError(field, 'must not contain control characters');
  return g;
}

function validateRate(field: string, r: unknown): RateLimit {
  if (!isPlainObject(r)) throw new ValidationError(field, 'must be { max, duration }');
  onlyKeys(field, r, ['max', 'duration']);
  integer(`${field}.max`, r.max, 1, 1_000_000);
  integer(`${field}.duration`, r.duration, 1, 7 * 24 * 3600_000);
  return r as unknown as RateLimit;
}

/** Group limits: concurrency at least 1, a rate of at least 1 per window. */
export function validateGroupLimits(field: string, l: unknown): GroupLimits {
  if (!isPlainObject(l)) throw new ValidationError(field, 'must be { concurrency, rate }');
  onlyKeys(field, l, ['concurrency', 'rate']);
  if (l.concurrency != null) integer(`${field}.concurrency`, l.concurrency, 1, 1_000_000);
  if (l.rate != null) validateRate(`${field}.rate`, l.rate);
  return l as GroupLimits;
}

export function validateQueueLimits(l: unknown): QueueLimits {
  if (!isPlainObject(l)) throw new ValidationError('limits', 'must be { concurrency, rate, group }');
  onlyKeys('limits', l, ['concurrency', 'rate', 'group']);
  validateGroupLimits('limits', { concurrency: l.concurrency, rate: l.rate });
  if (l.group != null) validateGroupLimits('limits.group', l.group);
  return l as QueueLimits;
}

export function validateName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new ValidationError(field, 'must be a non-empty string');
  if (name.length > 200) throw new ValidationError(field, 'must be at most 200 characters');
  return name;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * Queue names and prefixes become part of a Redis hash tag, so braces would break slot
 * routing; control characters would let a name forge lines in `hopper stats` and logs.
 */
function validateTagPart(field: string, v: unknown): string {
  validateName(field, v);
  if (/[{}]/.test(v as string)) throw new ValidationError(field, 'must not contain { or }');
  if (CONTROL.test(v as string)) throw new ValidationError(field, 'must not contain control characters');
  return v as string;
}

export function validateQueueName(name: unknown): string {
  return validateTagPart('name', name);
}

/** The key prefix of Queue and Worker options; default `hopper`. */
export function validatePrefix(prefix: unknown): string {
  return prefix === undefined ? 'hopper' : validateTagPart('prefix', prefix);
}

/** The largest `maxPayloadBytes`: a batch of jobs travels in one Redis argument (at most 512 MB). */
export const MAX_PAYLOAD_LIMIT = 64 * 1024 * 1024;

/** Checks the Queue options that are plain values; returns the ones with defaults applied. */
export function validateQueueOptions(options: unknown): {
  prefix: string;
  maxPayloadBytes: number;
  addTimeout: number;
  durability: Durability | undefined;
} {
  if (!isPlainObject(options))
    throw new ValidationError('options', `must be an object, got ${show(options)}`);
  onlyKeys('options', options, [...QUEUE_OPTIONS]);
  const o = options as Record<string, unknown>;
  return {
    prefix: validatePrefix(o.prefix),
    maxPayloadBytes:
      o.maxPayloadBytes === undefined
        ? 512 * 1024
        : integer('maxPayloadBytes', o.maxPayloadBytes, 1, MAX_PAYLOAD_LIMIT),
    addTimeout:
      o.addTimeout === undefined ? 10_000 : integer('addTimeout', o.addTimeout, 100, MAX_TIMEOUT_MS),
    durability: validateDurability(o.durability),
  };
}

/** `{ replicas, timeoutMs }` for WAIT after each add batch or settle call; undefined: off. */
export function validateDurability(value: unknown): Durability | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError('durability', 'must be { replicas, timeoutMs }');
  onlyKeys('durability', value as Record<string, unknown>, ['replicas', 'timeoutMs']);
  const d = value as Record<string, unknown>;
  return {
    replicas: integer('durability.replicas', d.replicas, 1, 100),
    timeoutMs: integer('durability.timeoutMs', d.timeoutMs ?? 1000, 1, 60_000),
  };
}

const QUEUE_OPTIONS = [
  'connection',
  'prefix',
  'maxPayloadBytes',
  'defaultJobOptions',
  'logger',
  'metrics',
  'addTimeout',
  'spool',
  'partitions',
  'durability',
];

/**
 * Serialises job data, refusing what JSON would silently change and what exceeds the
 * limit: NaN and Infinity (stored as null), functions and symbols (dropped), and
 * `__proto__` keys or a `constructor.prototype` (prototype pollution in a consumer
 * that merges the data). The check walks the data once after JSON.stringify (which
 * already refuses cycles and BigInts): cheaper than a replacer, which costs a call per value.
 */
export function serializeData(field: string, data: unknown, maxBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data === undefined ? null : data);
  } catch (err) {
    throw new ValidationError(field, `is not JSON-serialisable: ${(err as Error).message}`);
  }
  if (json === undefined) throw new ValidationError(field, `is not JSON-serialisable (${typeof data})`);
  const bad = check(data, '', '');
  if (bad !== undefined) throw new ValidationError(`${field}${bad.path}`, bad.problem);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only near the limit.
  if (json.length * 3 <= maxBytes) return json;
  const size = Buffer.byteLength(json);
  if (size > maxBytes)
    throw new ValidationError(field, `is ${size} bytes serialised, over the limit of ${maxBytes}`);
  return json;
}

interface Unsafe {
  path: string;
  problem: string;
}

function unsafeScalar(v: unknown): Unsafe | undefined {
  switch (typeof v) {
    case 'number':
      return v - v === 0 ? undefined : { path: '', problem: `is ${v}, which JSON stores as null` };
    case 'function':
    case 'symbol':
      return { path: '', problem: `is a ${typeof v}, which JSON drops` };
    default:
      return undefined;
  }
}

/** The first value JSON would change, with its path; undefined when there is none. */
function findUnsafe(v: object, at: string): Unsafe | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = check(v[i], `${at}[${i}]`, String(i));
      if (bad) return bad;
    }
    return undefined;
  }
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = (v as Record<string, unknown>)[key];
    const path = `${at}.${key}`;
    if (key === '__proto__')
      return { path, problem: 'is refused: a consumer merging the data could change prototypes' };
    if (
      key === 'constructor' &&
      typeof value === 'object' &&
      value !== null &&
      Object.hasOwn(value, 'prototype')
    )
      return {
        path: `${path}.prototype`,
        problem: 'is refused: a consumer merging the data could change prototypes',
      };
    const bad = check(value, path, key);
    if (bad) return bad;
  }
  return undefined;
}

function check(value: unknown, path: string, key: string): Unsafe | undefined {
  if (typeof value !== 'object' || value === null) {
    // undefined is JSON's way to leave a field out, as usual; at the top level it is null.
    const bad = unsafeScalar(value);
    return bad && { path, problem: bad.problem };
  }
  // What JSON.stringify serialises in its place (a Date's string).
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const replaced: unknown = toJSON.call(value, key);
    return typeof replaced === 'object' && replaced !== null
      ? findUnsafe(replaced, path)
      : check(replaced, path, key);
  }
  return findUnsafe(value, path);
}
