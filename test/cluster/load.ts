import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Queue, Worker } from '../../src/index.js';
import type { ConnectionOptions } from '../../src/redis/connection.js';
import { askNode, type RedisClusterProcess } from '../helpers/redis-cluster.js';

export const quiet = pino({ level: 'silent' });

/** Jobs acknowledged before and after each failover: 300 in `npm test`, 5000 in `npm run soak:cluster`. */
export const STEP = process.env.HOPPER_CLUSTER_SOAK ? 5000 : 300;

/**
 * A busy queue for failover tests: a producer adding small batches in a loop and a worker
 * completing them. Records which adds were acknowledged and which jobs completed, so a
 * test can check that every acknowledged job completes and none stays active.
 */
export class Load {
  readonly acked = new Set<string>();
  readonly completed = new Set<string>();
  runs = 0;
  addErrors = 0;
  private producing = true;
  private readonly producer: Promise<void>;
  readonly queue: Queue;
  readonly worker: Worker;

  constructor(
    name: string,
    connection: ConnectionOptions,
    opts: { durability?: { replicas: number; timeoutMs?: number }; partitions?: number } = {},
  ) {
    this.queue = new Queue(name, {
      connection,
      logger: quiet,
      durability: opts.durability,
      metrics: false,
      partitions: opts.partitions,
    });
    this.worker = new Worker(
      name,
      async (job) => {
        this.runs++;
        await sleep(2);
        this.completed.add(job.id);
      },
      {
        connection,
        concurrency: 20,
        logger: quiet,
        durability: opts.durability,
        leaseMs: 3000,
        metrics: false,
        partitions: opts.partitions,
      },
    );
    this.worker.on('error', () => {});
    this.producer = this.produce();
  }

  private async produce(): Promise<void> {
    let n = 0;
    while (this.producing) {
      const batch = Array.from({ length: 10 }, () => ({ name: 'j', data: { n: n++ } }));
      try {
        for (const id of await this.queue.addBulk(batch)) this.acked.add(id);
      } catch (e) {
        // Not acknowledged: not counted. (With durability a ReplicationTimeoutError lands here too.)
        if (process.env.DEBUG_LOAD) console.error('add error', (e as Error).message);
        this.addErrors++;
      }
      await sleep(5);
    }
  }

  async untilAcked(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.acked.size} adds acknowledged`);
      await sleep(10);
    }
  }

  async stopProducing(): Promise<void> {
    this.producing = false;
    await this.producer;
  }

  /** Acknowledged jobs not completed (yet). */
  missing(): string[] {
    return [...this.acked].filter((id) => !this.completed.has(id));
  }

  async untilAllCompleted(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.missing().length > 0 && Date.now() < deadline) await sleep(50);
  }

  async close(): Promise<void> {
    this.producing = false;
    await this.producer;
    await this.worker.close();
    await this.queue.close();
  }
}

/**
 * Counts once nothing is active or waiting, or after `ms`. Right after the handlers
 * ran, their last settle calls may still be on their way (and a job whose completion a
 * failover lost goes back at the worker's next beat): "none stuck" means none left
 * after a bounded time, not at the instant the last handler returned.
 */
export async function untilNothingLeft(queue: Queue, ms = 10_000) {
  const deadline = Date.now() + ms;
  let counts = await queue.getCounts();
  while ((counts.active > 0 || counts.waiting > 0) && Date.now() < deadline) {
    await sleep(100);
    counts = await queue.getCounts();
  }
  return counts;
}

/** The port of the node replicating the master on `masterPort`. */
export async function replicaOf(cluster: RedisClusterProcess, masterPort: number): Promise<number> {
  for (const node of cluster.nodes) {
    const info = await askNode(node.port, (c) => c.info('replication'));
    if (info?.includes('role:slave') && info.includes(`master_port:${masterPort}`)) return node.port;
  }
  throw new Error(`no replica of ${masterPort}`);
}

/** Waits (up to 20 s) until the node on `port` is the master of `key`'s slot. */
export async function untilMaster(cluster: RedisClusterProcess, key: string, port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await cluster.masterFor(key).catch(() => undefined))?.port !== port) {
    if (Date.now() > deadline) throw new Error(`failover of ${key} to ${port} did not complete`);
    await sleep(50);
  }
}
