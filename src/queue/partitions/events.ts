import { EventEmitter } from 'node:events';
import { JobStateError, ValidationError } from '../../util/errors.js';
import { defaultLogger } from '../../util/logger.js';
import type { QueueEvents } from '../events/queue-events.js';
import { QUEUE_EVENT_NAMES, type QueueEventsMap, type QueueEventsOptions } from '../events/types.js';
import { validatePrefix } from '../validate.js';
import { partitionNames, partitionOfId, validatePartitions } from './layout.js';
import { markPartition } from './role.js';

const EVENTS: (keyof QueueEventsMap)[] = [...QUEUE_EVENT_NAMES, 'error'];

type EventsSurface = Omit<{ [K in keyof QueueEvents]: QueueEvents[K] }, keyof EventEmitter>;

/**
 * Job events of a partitioned queue: one QueueEvents per partition (each reads its own
 * partition's stream), their events re-emitted here. Order holds within a partition, not
 * across. `lastEventId` is the partitions' ids joined by commas, in partition order; given
 * back as `lastEventId` it resumes each partition where it was. `new QueueEvents(name,
 * { partitions: N })` returns one.
 */
export class PartitionedQueueEvents extends EventEmitter<QueueEventsMap> implements EventsSurface {
  readonly name: string;
  readonly partitions: number;
  readonly parts: QueueEvents[] = [];

  constructor(
    name: string,
    options: QueueEventsOptions,
    make: (name: string, o: QueueEventsOptions) => QueueEvents,
  ) {
    super();
    this.name = name;
    this.partitions = validatePartitions(options.partitions);
    const logger = options.logger ?? defaultLogger('hopper:events');
    const names = partitionNames(validatePrefix(options.prefix), name, this.partitions);
    const last = options.lastEventId ?? '$';
    const lasts = last === '$' || last === '0' ? names.map(() => last) : String(last).split(',');
    if (lasts.length !== this.partitions)
      throw new ValidationError(
        'lastEventId',
        `must be '$', '0' or ${this.partitions} event ids joined by commas (a partitioned queue's lastEventId)`,
      );
    try {
      names.forEach((p, i) => {
        const own = { ...options, partitions: undefined, lastEventId: lasts[i] };
        this.parts.push(make(p, markPartition(own, { index: i, count: this.partitions })));
      });
    } catch (err) {
      for (const e of this.parts) e.close().catch(() => {});
      throw err;
    }
    for (const part of this.parts)
      for (const event of EVENTS)
        part.on(event as 'error', (...args: unknown[]) => {
          // Without a listener of ours, a read error is logged (as QueueEvents does), not thrown.
          if (event === 'error' && this.listenerCount('error') === 0)
            return logger.warn(
              { queue: name, err: (args[0] as Error)?.message },
              'queue events: read failed',
            );
          (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
        });
  }

  get lastEventId(): string {
    return this.parts.map((p) => p.lastEventId).join(',');
  }

  run(): void {
    for (const p of this.parts) p.run();
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.waitUntilReady()));
  }

  /** Asks the partition the id names; a job not there (a grouped jobId) is looked for in the others. */
  async waitUntilFinished<R = unknown>(jobId: string, timeoutMs = 60_000): Promise<R> {
    const first = typeof jobId === 'string' && jobId !== '' ? partitionOfId(jobId, this.partitions) : 0;
    try {
      return await this.parts[first]!.waitUntilFinished<R>(jobId, timeoutMs);
    } catch (err) {
      if (!(err instanceof JobStateError) || !/not found/.test(err.message)) throw err;
      const others = this.parts.filter((_, i) => i !== first);
      try {
        return await Promise.any(others.map((p) => p.waitUntilFinished<R>(jobId, timeoutMs)));
      } catch (all) {
        const errors = (all as AggregateError).errors ?? [];
        throw errors.find((e) => !(e instanceof JobStateError && /not found/.test(e.message))) ?? err;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.close()));
  }
}
