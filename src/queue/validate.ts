import { ValidationError } from '../util/errors.js';
import { type BackoffOptions, type JobOptions, MAX_PRIORITY, type RetentionOptions } from './types.js';

/**
 * Checks a job's options before anything is written. Each problem throws a
 * ValidationError naming the field (`opts.delay`, `jobs[2].opts.priority`).
 */
const KNOWN = new Set([
  'priority',
  'delay',
  'attempts',
  'backoff',
  'jobId',
  'dedup',
  'timeout',
  'removeOnComplete',
  'removeOnFail',
]);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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
  if (typeof v === 'number') return integer(field, v, 0);
  if (!isPlainObject(v))
    throw new ValidationError(field, `must be a number of ms or { type, delay, jitter }, got ${show(v)}`);
  onlyKeys(field, v, ['type', 'delay', 'jitter']);
  if (v.type !== 'fixed' && v.type !== 'exponential') {
    throw new ValidationError(`${field}.type`, `must be "fixed" or "exponential", got ${show(v.type)}`);
  }
  integer(`${field}.delay`, v.delay, 0);
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
  if (v.age !== undefined) integer(`${field}.age`, v.age, 1);
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
  if (o.delay !== undefined) integer(`${field}.delay`, o.delay, 0);
  if (o.attempts !== undefined) integer(`${field}.attempts`, o.attempts, 1, 1_000_000);
  if (o.backoff !== undefined) validateBackoff(`${field}.backoff`, o.backoff);
  if (o.timeout !== undefined) integer(`${field}.timeout`, o.timeout, 0);
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
    if (!isPlainObject(o.dedup)) throw new ValidationError(`${field}.dedup`, 'must be { key, ttl }');
    onlyKeys(`${field}.dedup`, o.dedup, ['key', 'ttl']);
    if (typeof o.dedup.key !== 'string' || o.dedup.key.length === 0 || o.dedup.key.length > 512) {
      throw new ValidationError(`${field}.dedup.key`, 'must be a non-empty string of at most 512 characters');
    }
    integer(`${field}.dedup.ttl`, o.dedup.ttl, 1);
  }
  if (o.removeOnComplete !== undefined) validateRetention(`${field}.removeOnComplete`, o.removeOnComplete);
  if (o.removeOnFail !== undefined) validateRetention(`${field}.removeOnFail`, o.removeOnFail);
  return o;
}

export function validateName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new ValidationError(field, 'must be a non-empty string');
  if (name.length > 200) throw new ValidationError(field, 'must be at most 200 characters');
  return name;
}

/** Queue names become part of a Redis hash tag, so braces would break slot routing. */
export function validateQueueName(name: unknown): string {
  validateName('name', name);
  if (/[{}]/.test(name as string)) throw new ValidationError('name', 'must not contain { or }');
  return name as string;
}

/** Serialises job data, rejecting what JSON cannot carry and what exceeds the limit. */
export function serializeData(field: string, data: unknown, maxBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data === undefined ? null : data);
  } catch (err) {
    throw new ValidationError(field, `is not JSON-serialisable: ${(err as Error).message}`);
  }
  if (json === undefined) throw new ValidationError(field, `is not JSON-serialisable (${typeof data})`);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only near the limit.
  if (json.length * 3 <= maxBytes) return json;
  const size = Buffer.byteLength(json);
  if (size > maxBytes)
    throw new ValidationError(field, `is ${size} bytes serialised, over the limit of ${maxBytes}`);
  return json;
}
