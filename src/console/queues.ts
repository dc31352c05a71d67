import { Queue } from '../queue/queue.js';
import type { Logger } from '../util/logger.js';

/** Queues kept open at once; the least recently used one is closed past this. */
const MAX_OPEN = 16;

/**
 * Queue objects for reading jobs and acting on them. Each holds a Redis connection, so
 * only a few stay open (least recently used closed first), whatever the number of queues.
 * Metrics are off: the console must not count anything into a queue it only looks at.
 */
export class ConsoleQueues {
  private readonly open = new Map<string, Queue>();

  constructor(
    private readonly connection: string,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  /** `partitions`: a partitioned queue's recorded count (read with the registry), so it opens as one queue. */
  get(name: string, partitions?: number): Queue {
    let q = this.open.get(name);
    // Opened with another count (obliterated and made again with another): opened afresh.
    if (q && ((q as { partitions?: number }).partitions ?? 1) !== (partitions ?? 1)) {
      this.open.delete(name);
      q.close().catch(() => {});
      q = undefined;
    }
    if (q) {
      this.open.delete(name);
    } else {
      q = new Queue(name, {
        connection: this.connection,
        prefix: this.prefix,
        metrics: false,
        logger: this.logger,
        partitions,
      });
      if (this.open.size >= MAX_OPEN) {
        const [oldest, old] = this.open.entries().next().value as [string, Queue];
        this.open.delete(oldest);
        old.close().catch(() => {});
      }
    }
    this.open.set(name, q);
    return q;
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((q) => q.close().catch(() => {})));
    this.open.clear();
  }
}
