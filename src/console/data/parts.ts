import type { QueueKeys } from '../../queue/keys.js';
import { PartitionedQueue } from '../../queue/partitions/queue.js';
import type { Queue } from '../../queue/queue.js';

/**
 * The keys a console view reads for a queue: its own, or every partition's for a
 * partitioned queue (src/queue/partitions), so no view shows one partition as the queue.
 */
export function partKeys(q: Queue): QueueKeys[] {
  const queue: unknown = q;
  return queue instanceof PartitionedQueue ? queue.parts.map((p) => p.keys) : [q.keys];
}
