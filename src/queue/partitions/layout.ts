import keySlot from 'cluster-key-slot';
import { ValidationError } from '../../util/errors.js';

/** The most partitions one queue may have (a worker opens connections per partition). */
export const MAX_PARTITIONS = 1024;

/**
 * How a queue numbers the jobs it generates ids for: sequence number x step + offset
 * (add.lua). A plain queue counts 1, 2, 3...; partition k of N counts k + N, k + 2N...,
 * so an id names its partition (id mod N: getJob, remove or retry by id touch one
 * partition), ids of different partitions never meet however long a partition runs,
 * and they stay as short as a plain queue's (longer ids cost Redis CPU on every write).
 */
export interface IdNumbering {
  step: number;
  offset: number;
}

export const PLAIN_IDS: IdNumbering = { step: 1, offset: 0 };

/** The id add.lua generates for sequence number `seq`. */
export function generatedId(seq: number, ids: IdNumbering): string {
  return String(seq * ids.step + ids.offset);
}

const SLOTS = 16384;

/** `partitions`: an integer from 1 to MAX_PARTITIONS, or a ValidationError naming it. */
export function validatePartitions(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_PARTITIONS)
    throw new ValidationError(
      'partitions',
      `must be an integer from 1 to ${MAX_PARTITIONS}, got ${typeof v === 'number' ? v : typeof v}`,
    );
  return v;
}

const namesCache = new Map<string, string[]>();

/**
 * The queue names of the N partitions of queue `name`: `name` itself for one partition,
 * else `name#k`, where k is the smallest integer whose hash tag `{prefix:name#k}` falls in
 * the i-th N-th of the Cluster's 16,384 slots. A cluster created with slots split evenly
 * (redis-cli --cluster create) so puts N partitions on min(N, masters) masters evenly,
 * which hashing the plain `name#i` would leave to chance (3 on 3 masters: 2 in 9).
 */
export function partitionNames(prefix: string, name: string, n: number): string[] {
  if (n === 1) return [name];
  const cacheKey = `${n}\0${prefix}\0${name}`;
  const cached = namesCache.get(cacheKey);
  if (cached) return cached;
  const found: (string | undefined)[] = new Array(n);
  let left = n;
  for (let k = 0; left > 0; k++) {
    const candidate = `${name}#${k}`;
    const i = Math.floor((keySlot(`{${prefix}:${candidate}}`) * n) / SLOTS);
    if (found[i] === undefined) {
      found[i] = candidate;
      left--;
    }
  }
  const names = found as string[];
  namesCache.set(cacheKey, names);
  return names;
}

/** FNV-1a over UTF-16 code units: a stable hash, the same in every process. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Where a group's jobs go: all of a group in one partition, so its order and limits hold. */
export function partitionOfGroup(group: string, n: number): number {
  return hashString(group) % n;
}

/**
 * The partition an id belongs to when its job has no group: a generated id names it
 * (IdNumbering: id mod n), any other id (a jobId, never all digits) goes by its hash.
 * Grouped jobs with a jobId are the exception (they follow the group): lookups try
 * this partition first, then the others.
 */
export function partitionOfId(id: string, n: number): number {
  if (/^[0-9]{1,16}$/.test(id)) return Number(id) % n;
  return hashString(id) % n;
}

/** The `name` of a queue name shaped like a partition's (`name#k`), else undefined. */
export function partitionBase(name: string): string | undefined {
  return /^(.+)#[0-9]+$/.exec(name)?.[1];
}

/**
 * The name users know a queue by: a partition's queue name (`name#k`, where flows keep
 * their links) becomes its partitioned queue's name, given the recorded counts (a plain
 * queue may be called `a#1` too, so the shape alone does not tell); any other name stays.
 */
export function logicalName(prefix: string, name: string, counts: ReadonlyMap<string, number>): string {
  const base = partitionBase(name);
  if (base === undefined) return name;
  const n = counts.get(base);
  if (n === undefined || n <= 1) return name;
  return partitionNames(prefix, base, n).includes(name) ? base : name;
}
