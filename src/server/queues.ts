import type { Redis } from 'ioredis';
import { registryKey } from '../queue/keys.js';
import { partitionsKey } from '../queue/partitions/registry.js';
import { Queue } from '../queue/queue.js';
import { validateQueueName } from '../queue/validate.js';
import type { Logger } from '../util/logger.js';
import { MAX_QUEUES, type ServerConfig } from './config.js';

/**
 * The queues the jobs API may touch: those configured (HOPPER_QUEUES), or any valid
 * name when auto-create is on (up to MAX_QUEUES open at once, each holding a
 * connection). Jobs submitted over HTTP are kept `jobTtl` after they finish unless
 * their own options say otherwise.
 */
export class JobQueues {
  private readonly open = new Map<string, Promise<Queue>>();

  constructor(
    private readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly client: Redis,
  ) {}

  /**
   * The queue, or undefined when the name is not accepted (the route answers 404). A
   * partitioned queue opens with the partition count its producers recorded, so jobs sent
   * over HTTP land where its workers look.
   */
  get(name: string): Promise<Queue | undefined> {
    const open = this.open.get(name);
    if (open) return open;
    if (!this.accepts(name) || this.open.size >= MAX_QUEUES) return Promise.resolve(undefined);
    const opening = this.client.hget(partitionsKey('hopper'), name).then((count) => {
      const keep = { age: this.config.jobTtl };
      return new Queue(name, {
        connection: this.config.redisUrl,
        partitions: Number(count) > 1 ? Number(count) : undefined,
        maxPayloadBytes: this.config.jobMaxData,
        defaultJobOptions: { removeOnComplete: keep, removeOnFail: keep },
        metrics: { retentionDays: this.config.metricsDays },
        logger: this.logger,
      });
    });
    this.open.set(name, opening);
    opening.catch(() => this.open.delete(name)); // Redis did not answer: the next request tries again
    return opening;
  }

  private accepts(name: string): boolean {
    if (this.config.queues.includes(name)) return true;
    if (!this.config.autoCreateQueues) return false;
    try {
      validateQueueName(name);
      return true;
    } catch {
      return false;
    }
  }

  /** Names to report metrics for: the configured ones and those any producer or worker registered. */
  async names(client: Redis): Promise<string[]> {
    const registered = await client.smembers(registryKey('hopper'));
    return [...new Set([...this.config.queues, ...registered])].sort().slice(0, 1000);
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((q) => q.then((q) => q.close()).catch(() => {})));
    this.open.clear();
  }
}
