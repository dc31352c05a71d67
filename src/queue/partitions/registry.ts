import type { Redis } from 'ioredis';
import { ValidationError } from '../../util/errors.js';
import { type QueueKeys, queueKeys, registryKey } from '../keys.js';
import { logicalName, partitionBase, partitionNames } from './layout.js';

/** HASH queue name -> partition count, next to the queue registry (outside any queue's tag). */
export const partitionsKey = (prefix: string) => `${prefix}:queues:partitions`;

/**
 * Opening a queue with another partition count than the one it was first opened with:
 * jobs already placed would be looked for in the wrong partitions, so it is refused.
 */
export class PartitionCountError extends ValidationError {
  override name = 'PartitionCountError';
  constructor(
    readonly queue: string,
    readonly stored: number,
    readonly requested: number,
  ) {
    super(
      'partitions',
      `queue ${JSON.stringify(queue)} has ${stored} partition(s), opened with ${requested}: the count cannot change on a live queue (obliterate it first, or open it with partitions: ${stored})`,
    );
  }
}

/**
 * Records the queue's partition count on first open and refuses another count later.
 * A queue registered without a count is a plain queue: one partition.
 */
export async function claimPartitions(client: Redis, prefix: string, name: string, n: number): Promise<void> {
  const key = partitionsKey(prefix);
  let stored = await client.hget(key, name);
  if (stored === null) {
    const plain = (await client.sismember(registryKey(prefix), name)) === 1;
    if (!plain && n > 1) {
      // A plain queue under a partition's name would share that partition's keys.
      const names = partitionNames(prefix, name, n);
      const taken = await client.smismember(registryKey(prefix), ...names);
      const at = taken.indexOf(1);
      if (at !== -1)
        throw new ValidationError(
          'partitions',
          `queue ${JSON.stringify(name)} cannot have ${n} partitions: the name of its partition ${JSON.stringify(names[at])} is a plain queue's already`,
        );
    }
    await client.hsetnx(key, name, plain ? 1 : n);
    stored = await client.hget(key, name);
  }
  if (Number(stored) !== n) throw new PartitionCountError(name, Number(stored), n);
  await client.sadd(registryKey(prefix), name);
}

/**
 * A plain queue opened under the name of another queue's partition (`name#k`): it would
 * share that partition's keys, so it is refused.
 */
export class PartitionNameError extends ValidationError {
  override name = 'PartitionNameError';
  constructor(
    readonly queue: string,
    readonly partitionOf: string,
  ) {
    super(
      'name',
      `queue ${JSON.stringify(queue)} is a partition of the partitioned queue ${JSON.stringify(partitionOf)}: open ${JSON.stringify(partitionOf)} instead`,
    );
  }
}

/**
 * Refuses a name recorded as partitioned to a queue or worker opened without `partitions`:
 * it would write to (or wait on) keys no partition uses. Refuses a partition's own name too.
 */
export async function refusePartitioned(client: Redis, prefix: string, name: string): Promise<void> {
  const base = partitionBase(name);
  const [own, ofBase] = await client.hmget(partitionsKey(prefix), name, base ?? name);
  if (Number(own) > 1) throw new PartitionCountError(name, Number(own), 1);
  if (base !== undefined && Number(ofBase) > 1 && partitionNames(prefix, base, Number(ofBase)).includes(name))
    throw new PartitionNameError(name, base);
}

/** Partition counts of the registered queues that have more than one (for the CLI and the dashboard). */
export async function readPartitionCounts(client: Redis, prefix: string): Promise<Map<string, number>> {
  const all = await client.hgetall(partitionsKey(prefix));
  const counts = new Map<string, number>();
  for (const [name, n] of Object.entries(all)) if (Number(n) > 1) counts.set(name, Number(n));
  return counts;
}

/**
 * Maps queue names to the names users know (layout.ts: logicalName): a partition's name
 * `name#k` to `name`. One HMGET of the recorded counts, none when no name is shaped like
 * a partition's.
 */
export async function logicalNamer(
  client: Redis,
  prefix: string,
  names: Iterable<string>,
): Promise<(name: string) => string> {
  const bases = new Set<string>();
  for (const name of names) {
    const base = partitionBase(name);
    if (base !== undefined) bases.add(base);
  }
  if (bases.size === 0) return (name) => name;
  const list = [...bases];
  const stored = await client.hmget(partitionsKey(prefix), ...list);
  const counts = new Map<string, number>();
  list.forEach((base, i) => {
    if (stored[i] !== null) counts.set(base, Number(stored[i]));
  });
  return (name) => logicalName(prefix, name, counts);
}

/** The keys of a registered queue: its own, or each partition's, given the recorded counts (readPartitionCounts). */
export function partitionKeys(
  prefix: string,
  name: string,
  counts: ReadonlyMap<string, number>,
): QueueKeys[] {
  return partitionNames(prefix, name, counts.get(name) ?? 1).map((p) => queueKeys(prefix, p));
}
