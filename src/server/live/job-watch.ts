import { QueueEvents } from '../../queue/events/queue-events.js';
import { QUEUE_EVENT_NAMES, type QueueEventName } from '../../queue/events/types.js';
import type { Queue } from '../../queue/queue.js';
import type { Logger } from '../../util/logger.js';

type Listener = (event: QueueEventName, eventId: string) => void;

/** The job events a watcher hears about (drained concerns no job). */
const JOB_EVENTS = QUEUE_EVENT_NAMES.filter((e) => e !== 'drained');

/**
 * Job watches of one server, over every socket: one QueueEvents per queue (one blocking
 * connection reading the queue's events stream), opened on the first watch and kept until
 * close. A listener hears every event of its job; the socket then re-reads the job's state,
 * so what it sends is always the state in Redis, never an event's copy of it.
 */
export class JobWatch {
  private readonly events = new Map<string, QueueEvents>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly redisUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Starts listening; resolves (with the function that stops) once the queue's events are being read. */
  async watch(queue: Queue, jobId: string, listener: Listener): Promise<() => void> {
    const k = `${queue.name}\u0000${jobId}`;
    let set = this.listeners.get(k);
    if (!set) {
      set = new Set();
      this.listeners.set(k, set);
    }
    set.add(listener);
    const stop = () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(k) === set) this.listeners.delete(k);
    };
    try {
      await this.open(queue).waitUntilReady();
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  private open({ name: queue, partitions }: Queue & { partitions?: number }): QueueEvents {
    let qe = this.events.get(queue);
    if (qe) return qe;
    // A partitioned queue's events are read from each partition's stream.
    qe = new QueueEvents(queue, { connection: this.redisUrl, logger: this.logger, partitions });
    for (const name of JOB_EVENTS)
      qe.on(name, (e: { jobId: string }, eventId: string) => {
        for (const l of this.listeners.get(`${queue}\u0000${e.jobId}`) ?? []) l(name, eventId);
      });
    qe.on('error', (err) =>
      this.logger.warn({ err: err.message, queue }, 'job events: read failed; retrying'),
    );
    this.events.set(queue, qe);
    return qe;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all([...this.events.values()].map((qe) => qe.close().catch(() => {})));
    this.events.clear();
  }
}
