import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { createClient } from '../../redis/connection.js';
import { defaultLogger, type Logger } from '../../util/logger.js';
import { warnAboutServer } from '../server-warnings.js';
import type { Job, WorkerOptions } from '../types.js';
import { validatePrefix } from '../validate.js';
import { CancelListener } from '../worker/cancel.js';
import type { WorkerEventsMap } from '../worker/events.js';
import { newWorkerId } from '../worker/id.js';
import { integerOption, MAX_TIMER_MS } from '../worker/options.js';
import type { Worker } from '../worker/worker.js';
import { partitionNames, validatePartitions } from './layout.js';
import { claimPartitions } from './registry.js';
import { markPartition, type SharedSlots } from './role.js';

/** Worker's public surface (EventEmitter's included): TypeScript checks the partitioned worker offers all of it. */
export type WorkerSurface<D, R> = Omit<
  { [K in keyof Worker<D, R>]: Worker<D, R>[K] },
  'redis' | keyof EventEmitter
>;

/** Events a partition's worker reports as they are; paused/resumed and drained are the partitioned worker's own. */
const FORWARDED = ['active', 'progress', 'completed', 'failed', 'error', 'lost'] as const;

/**
 * Runs a partitioned queue's jobs: one Worker per partition (its own fetch loop, blocking
 * connection and lease, so an empty or slow partition never holds up another, and each
 * partition's fetches and settles stay batches), all under one concurrency budget. A slot
 * that frees is offered to the partitions in turn, starting one past the last served, so
 * none is starved (role.ts: offerSlots). `new Worker(name, handler, { partitions: N })`
 * returns one. Schedules run in partition 0's worker only.
 */
export class PartitionedWorker<D = unknown, R = unknown>
  extends EventEmitter<WorkerEventsMap<D, R>>
  implements WorkerSurface<D, R>
{
  readonly id: string;
  readonly name: string;
  readonly partitions: number;
  readonly parts: Worker<D, R>[] = [];
  private readonly shared: SharedSlots;
  private readonly ready: Promise<void>;
  private readonly drainedParts = new Set<number>();
  private readonly owners = new WeakMap<Job<D>, Worker<D, R>>();
  private started = false;
  private closing = false;
  private paused = false;
  private nextManual = 0;
  private readonly logger: Logger;
  private readonly connections: { client: Redis; cancels: CancelListener };

  constructor(
    name: string,
    options: WorkerOptions,
    make: (name: string, options: WorkerOptions) => Worker<D, R>,
  ) {
    super();
    this.name = name;
    this.partitions = validatePartitions(options.partitions);
    this.logger = options.logger ?? defaultLogger('hopper:worker');
    const prefix = validatePrefix(options.prefix);
    const concurrency = integerOption('concurrency', options.concurrency, 1, 1, 10_000);
    this.shared = { running: 0, limit: concurrency, pumps: [], next: 0 };
    const names = partitionNames(prefix, name, this.partitions);
    // One id for every partition's Worker (role.ts): one worker to whoever reads the leases.
    this.id = newWorkerId();
    // One command connection and one cancel subscriber for all partitions; each partition's
    // Worker keeps its own blocking connection (a blocked read holds its connection).
    const client = createClient(options.connection, 'command');
    client.on('error', () => {}); // reconnects on its own
    warnAboutServer(client, this.logger);
    this.connections = { client, cancels: new CancelListener(options.connection) };
    try {
      for (let i = 0; i < names.length; i++) {
        const own: WorkerOptions = {
          ...options,
          partitions: undefined,
          autorun: false,
          // Schedules live in partition 0: one tick, one job.
          schedules: i === 0 ? options.schedules : false,
        };
        this.parts.push(
          make(
            names[i]!,
            markPartition(own, {
              index: i,
              count: this.partitions,
              slots: this.shared,
              workerId: this.id,
              connections: this.connections,
            }),
          ),
        );
      }
    } catch (err) {
      for (const w of this.parts) w.close({ timeout: 0 }).catch(() => {});
      client.disconnect();
      throw err;
    }
    this.parts.forEach((w, i) => {
      for (const event of FORWARDED)
        w.on(event as 'error', (...args: unknown[]) => {
          if (event === 'active') this.drainedParts.delete(i);
          // Without a listener of ours, an error is logged (as a Worker does), not thrown.
          if (event === 'error' && this.listenerCount('error') === 0)
            return this.logger.error({ queue: name, err: (args[0] as Error)?.message }, 'worker error');
          (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
        });
      w.on('drained', () => {
        this.drainedParts.add(i);
        if (this.drainedParts.size === this.partitions) this.emit('drained');
      });
    });
    this.ready = claimPartitions(this.parts[0]!.redis, prefix, name, this.partitions);
    this.ready.catch(() => {}); // reported by run() on `error`, and to getNextJob
    if (options.autorun !== false) this.run();
  }

  /** Resolves once the partition count is recorded (or matches); rejects with PartitionCountError if not. */
  waitUntilReady(): Promise<void> {
    return this.ready;
  }

  /** Starts every partition's worker once the partition count is confirmed; a mismatch is an `error`, and nothing runs. */
  run(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.ready.then(
      () => {
        if (!this.closing) for (const w of this.parts) w.run();
      },
      (err) => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      },
    );
  }

  get concurrency(): number {
    return this.shared.limit;
  }

  set concurrency(n: number) {
    const checked = integerOption('concurrency', n, 1, 1, 10_000);
    this.shared.limit = checked;
    for (const w of this.parts) w.concurrency = checked;
  }

  isPaused(): boolean {
    return this.paused;
  }

  async pause(opts: { doNotWaitActive?: boolean } = {}): Promise<void> {
    if (this.closing) return;
    const first = !this.paused;
    this.paused = true;
    await Promise.all(this.parts.map((w) => w.pause({ ...opts, doNotWaitActive: true })));
    if (first) this.emit('paused');
    if (!opts.doNotWaitActive) await Promise.all(this.parts.map((w) => w.pause(opts)));
  }

  resume(): void {
    if (!this.paused || this.closing) return;
    this.paused = false;
    for (const w of this.parts) w.resume();
    this.emit('resumed');
  }

  cancelJob(id: string, reason?: string): boolean {
    return this.parts.some((w) => w.cancelJob(id, reason));
  }

  async close(opts: { timeout?: number } = {}): Promise<void> {
    this.closing = true;
    await Promise.all(this.parts.map((w) => w.close(opts)));
    const { client, cancels } = this.connections;
    await cancels.close();
    await client.quit().catch(() => {});
    client.disconnect();
  }

  /** Manual worker: the next job of any partition, trying them in turn (none starved). */
  async getNextJob(opts: { block?: number } = {}): Promise<Job<D> | undefined> {
    const block = integerOption('block', opts.block, 0, 0, MAX_TIMER_MS);
    await this.ready;
    this.started = true;
    const deadline = performance.now() + block;
    for (;;) {
      for (let k = 0; k < this.partitions; k++) {
        const i = (this.nextManual + k) % this.partitions;
        const w = this.parts[i]!;
        const job = await w.getNextJob({ block: 0 });
        if (job) {
          this.nextManual = (i + 1) % this.partitions;
          this.owners.set(job, w);
          return job;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.closing) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(left, 50)));
    }
  }

  completeJob(job: Job<D>, result: R): Promise<void> {
    return (this.owners.get(job) ?? this.parts[0]!).completeJob(job, result);
  }

  failJob(job: Job<D>, error: Error, opts?: { unrecoverable?: boolean }): Promise<void> {
    return (this.owners.get(job) ?? this.parts[0]!).failJob(job, error, opts);
  }
}
