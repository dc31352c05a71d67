import type { Redis } from 'ioredis';
import type { CancelListener } from '../worker/cancel.js';

/** What a partition's Worker shares with the other partitions' Workers of one partitioned Worker. */
export interface SharedSlots {
  /** Handlers running across all partitions. */
  running: number;
  /** The Worker's concurrency: one budget for all partitions. */
  limit: number;
  /** Each partition's Worker's start-reserved-jobs call, in partition order. */
  pumps: (() => void)[];
  /** Where the next freed slot is offered first: rotates so no partition is starved. */
  next: number;
}

export interface PartitionRole {
  index: number;
  count: number;
  slots?: SharedSlots;
  /**
   * A partitioned Worker's id, the same in every partition's Worker: its leases and active
   * entries name one worker, so the console and `worker.id` agree on which worker holds a job.
   * Safe because a worker id is only ever used inside one partition's keys (its hash tag).
   */
  workerId?: string;
  /** A partitioned Worker's command connection and cancel subscriber, shared by its partitions' Workers. */
  connections?: { client: Redis; cancels: CancelListener };
}

/**
 * Options objects (and the Queues and Workers made from them) that stand for one partition
 * of a partitioned queue: they skip the registry (the partitioned queue registers its own
 * name) and, for a Worker, share the concurrency budget. Kept out of the public options.
 */
const roles = new WeakMap<object, PartitionRole>();

export function markPartition<T extends object>(target: T, role: PartitionRole): T {
  roles.set(target, role);
  return target;
}

export function partitionRole(target: object): PartitionRole | undefined {
  return roles.get(target);
}

export function isPartition(target: object): boolean {
  return roles.has(target);
}

/** A slot freed: offers it to the partitions in turn, starting one past the last served. */
export function offerSlots(slots: SharedSlots): void {
  const n = slots.pumps.length;
  for (let k = 0; k < n && slots.running < slots.limit; k++) {
    const i = (slots.next + k) % n;
    const before = slots.running;
    slots.pumps[i]!();
    if (slots.running > before) slots.next = (i + 1) % n;
  }
}
