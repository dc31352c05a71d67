import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { createClient, reconnectDelay } from '../../redis/connection.js';
import { redactError } from '../../redis/redact.js';
import { defineScripts } from '../../redis/scripts.js';
import { ValidationError } from '../../util/errors.js';
import { defaultLogger, type Logger } from '../../util/logger.js';
import { type QueueKeys, queueKeys, registryKey } from '../keys.js';
import { PartitionedQueueEvents } from '../partitions/events.js';
import { partitionsKey } from '../partitions/registry.js';
import { isPartition } from '../partitions/role.js';
import { queueScripts } from '../scripts.js';
import { validatePrefix, validateQueueName } from '../validate.js';
import { booleanOption, integerOption, MAX_TIMER_MS } from '../worker/options.js';
import { decodeEntry } from './decode.js';
import { compareIds, validEventId } from './ids.js';
import { QUEUE_EVENT_NAMES, type QueueEventsMap, type QueueEventsOptions } from './types.js';
import { FinishWaiters } from './waiters.js';

const READ_COUNT = 1000;

/**
 * Job events of one queue, from any process: reads the queue's events stream
 * (events.lua writes it from the scripts that change a job's state) on a
 * connection of its own and emits one typed event per job. The stream is capped,
 * so a subscriber that falls further behind than the cap misses the oldest events.
 * `waitUntilFinished(id)` turns the events into request/response.
 */
export class QueueEvents extends EventEmitter<QueueEventsMap> {
  // Fields marked `!` are set by the constructor, except when it returns a PartitionedQueueEvents instead.
  readonly name: string;
  private readonly keys!: QueueKeys;
  private readonly client!: Redis;
  private readonly blocking!: Redis;
  private readonly blockMs!: number;
  private readonly logger!: Logger;
  private readonly waiters!: FinishWaiters;
  /** The id of the last entry read ('$' until the start resolved it). */
  private cursor!: string;
  private started = false;
  private closing = false;
  private loopDone: Promise<void> | undefined;
  private readyResolve!: () => void;
  private readonly ready = new Promise<void>((r) => {
    this.readyResolve = r;
  });
  private catchUps: { id: string; then: () => void }[] = [];
  private readonly prefix!: string;
  private readonly options!: QueueEventsOptions;
  /** Set once the name is known: a plain queue's (this reader reads its stream) or a partitioned one's. */
  private checked = false;
  /** The check in progress (followPartitions): the loop and waitUntilFinished share it. */
  private checking: Promise<boolean> | undefined;
  /** The first check is made: a queue recorded as partitioned from now on was recorded after this reader started. */
  private checkedOnce = false;
  /**
   * Opened without `partitions` on a name recorded as partitioned: the reader of every
   * partition this one stands for (its events re-emitted here, waitUntilFinished asked of it).
   */
  private follower: PartitionedQueueEvents | undefined;
  /** A partitioned queue's lastEventId (ids joined by commas), given before the count was known. */
  private readonly joined: string | undefined;
  /** Why this reader stopped at its start (a lastEventId that does not fit the queue). */
  private refused: Error | undefined;

  constructor(name: string, options: QueueEventsOptions = {}) {
    super();
    this.name = validateQueueName(name);
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('options', 'must be an object of QueueEventsOptions');
    // `partitions`: one reader per partition behind this one (src/queue/partitions).
    if (options.partitions !== undefined && !isPartition(options))
      // biome-ignore lint/correctness/noConstructorReturn: the partitioned reader stands in for this one
      return new PartitionedQueueEvents(
        name,
        options,
        (n, o) => new QueueEvents(n, o),
      ) as unknown as QueueEvents;
    this.options = options;
    this.prefix = validatePrefix(options.prefix);
    this.keys = queueKeys(this.prefix, name);
    const last = options.lastEventId ?? '$';
    // Ids joined by commas: a partitioned queue's lastEventId (checked against its count at start).
    const joined = typeof last === 'string' && last.includes(',') && last.split(',').every(validEventId);
    if (last !== '$' && !validEventId(last) && !joined)
      throw new ValidationError('lastEventId', `must be '$', '0' or a stream entry id like 1700000000000-0`);
    if (joined) this.joined = last;
    this.cursor = joined ? '$' : last === '0' ? '0-0' : last;
    this.blockMs = integerOption('blockMs', options.blockMs, 5000, 1, MAX_TIMER_MS);
    booleanOption('autorun', options.autorun);
    this.logger = options.logger ?? defaultLogger('hopper:events');
    this.client = createClient(options.connection, 'command');
    this.blocking = createClient(options.connection, 'blocking');
    for (const c of [this.client, this.blocking]) c.on('error', () => {}); // reconnects on its own
    defineScripts(this.client, queueScripts);
    this.waiters = new FinishWaiters(this.client, this.keys, this.prefix, (then) => this.whenCaughtUp(then));
    if (options.autorun !== false) this.run();
  }

  /** The id of the last event read: a new QueueEvents given it as `lastEventId` goes on from there. */
  get lastEventId(): string {
    return this.follower?.lastEventId ?? this.joined ?? this.cursor;
  }

  /** Starts reading (done by the constructor unless `autorun: false`). */
  run(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.loopDone = this.loop();
  }

  /** Resolves once the reader knows where it starts: events from then on are not missed. */
  waitUntilReady(): Promise<void> {
    this.run();
    return this.ready;
  }

  /**
   * Resolves to the job's result once it completed, or rejects with JobFailedError
   * once it failed for good (not on a failed attempt that will be retried), with
   * JobStateError if it is removed or not found, with TimeoutError after `timeoutMs`.
   * A job already finished answers at once. A job deleted as it completed
   * (removeOnComplete: true) resolves to undefined: its result is not kept.
   */
  async waitUntilFinished<R = unknown>(jobId: string, timeoutMs = 60_000): Promise<R> {
    if (typeof jobId !== 'string' || jobId === '')
      throw new ValidationError('jobId', 'must be a non-empty string');
    integerOption('timeoutMs', timeoutMs, 60_000, 1, MAX_TIMER_MS);
    if (this.closing) throw new ValidationError('queueEvents', 'is closed');
    await this.waitUntilReady();
    // A name not yet recorded when this reader started may be a partitioned queue's by now.
    if (!this.checked) await this.check();
    if (this.refused) throw this.refused;
    if (this.follower) return this.follower.waitUntilFinished<R>(jobId, timeoutMs);
    return this.waiters.wait<R>(jobId, timeoutMs);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closing && !this.follower) {
      try {
        if (!this.checked && (await this.check())) return;
        if (this.cursor === '$') this.cursor = await this.latestId();
        this.readyResolve();
        const reply = (await this.blocking.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          this.keys.events,
          this.cursor,
        )) as [string, [string, string[]][]][] | null;
        failures = 0;
        if (reply)
          for (const [, entries] of reply) for (const [id, fields] of entries) this.dispatch(id, fields);
        this.runCatchUps();
      } catch (err) {
        // Following partitions now (a late check), its own blocked read was cut: not an error.
        if (this.closing || this.follower) break;
        this.fail(err);
        await new Promise((r) => setTimeout(r, reconnectDelay(failures++)));
      }
    }
  }

  private check(): Promise<boolean> {
    this.checking ??= this.followPartitions().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  /**
   * Opened without `partitions` on a name recorded as partitioned (registry.ts), this
   * reader would hear nothing: the plain name's stream is never written. It reads the
   * recorded count (one HGET) and then reads every partition's stream through a
   * PartitionedQueueEvents, its events re-emitted here. A name not recorded at all yet (no
   * queue opened it) is checked again before each read, until a queue records it: one that
   * turns out partitioned is followed from its partitions' first events, so none is missed.
   * True when this reader does not read its own stream (it follows, or it refused a
   * lastEventId that does not fit).
   */
  private async followPartitions(): Promise<boolean> {
    if (isPartition(this.options)) {
      this.checked = true;
      return false;
    }
    // Two keys of no hash tag: two commands, not a MULTI (a Cluster would refuse it). In
    // this order: a partitioned queue's count is written before its name is registered.
    const plain = await this.client.sismember(registryKey(this.prefix), this.name);
    const count = await this.client.hget(partitionsKey(this.prefix), this.name);
    const n = Number(count);
    if (this.closing) return true;
    const late = this.checkedOnce;
    this.checkedOnce = true;
    // Not recorded by any queue yet (and no partitioned lastEventId to refuse): read the
    // plain stream and check again before the next read.
    this.checked = count !== null || plain === 1 || this.joined !== undefined;
    if (!(n > 1)) {
      if (this.joined === undefined) return false;
      this.refuse(
        new ValidationError(
          'lastEventId',
          `must be '$', '0' or one stream entry id: queue ${JSON.stringify(this.name)} is not partitioned`,
        ),
      );
      return true;
    }
    // Found late, the queue was recorded after this reader started: all its events came after.
    const from = late && this.joined === undefined ? '0' : (this.joined ?? this.options.lastEventId);
    const options = { ...this.options, partitions: n, lastEventId: from };
    try {
      this.follower = new PartitionedQueueEvents(this.name, options, (p, o) => new QueueEvents(p, o));
    } catch (err) {
      this.refuse(err as Error);
      return true;
    }
    this.blocking.disconnect(); // this reader's own stream is not read
    for (const event of [...QUEUE_EVENT_NAMES, 'error'] as const)
      this.follower.on(event as 'error', (...args: unknown[]) => {
        if (event === 'error') this.fail(args[0]);
        else (this.notify as (e: string, ...a: unknown[]) => void)(event, ...args);
      });
    await this.follower.waitUntilReady();
    this.readyResolve();
    return true;
  }

  private refuse(err: Error): void {
    this.refused = err;
    this.fail(err);
    this.readyResolve();
  }

  private async latestId(): Promise<string> {
    const last = await this.client.xrevrange(this.keys.events, '+', '-', 'COUNT', 1);
    return last[0]?.[0] ?? '0-0';
  }

  private dispatch(eventId: string, fields: string[]): void {
    this.cursor = eventId;
    const entry = decodeEntry(fields);
    if (!entry) return;
    const { event, ids } = entry;
    if (event === 'drained') {
      this.notify('drained', eventId);
      return;
    }
    const ending = event === 'completed' || event === 'failed' || event === 'removed';
    if (this.listenerCount(event) > 0) {
      let data: unknown;
      if (event === 'progress' && entry.data !== undefined) data = JSON.parse(entry.data);
      for (const jobId of ids) {
        if (event === 'progress') this.notify('progress', { jobId, data }, eventId);
        else this.notify(event, { jobId }, eventId);
      }
    }
    if (ending) for (const jobId of ids) this.waiters.ended(jobId, event);
  }

  /** Calls `then` once the reader has read the stream up to its last entry as of now. */
  private whenCaughtUp(then: () => void): void {
    this.latestId().then(
      (id) => {
        this.catchUps.push({ id, then });
        this.runCatchUps();
      },
      () => {},
    );
  }

  private runCatchUps(): void {
    if (this.catchUps.length === 0 || this.cursor === '$') return;
    const due = this.catchUps.filter((c) => compareIds(c.id, this.cursor) <= 0);
    if (due.length === 0) return;
    this.catchUps = this.catchUps.filter((c) => compareIds(c.id, this.cursor) > 0);
    for (const c of due) c.then();
  }

  /** Emits without letting a throwing listener stop the reader (it is reported on `error`). */
  private notify<K extends keyof QueueEventsMap>(event: K, ...args: QueueEventsMap[K]): void {
    try {
      (this.emit as (e: K, ...a: QueueEventsMap[K]) => boolean)(event, ...args);
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    const clean = redactError(err, [this.client.options.password ?? '']);
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', clean);
        return;
      } catch {
        // fall through to the log
      }
    }
    this.logger.warn({ queue: this.name, err: clean.message }, 'queue events: read failed');
  }

  /** Stops reading; pending waitUntilFinished calls reject. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.readyResolve();
    this.blocking.disconnect(); // ends a blocked XREAD
    // Before the loop ends: the loop may be waiting for the follower to be ready.
    await this.follower?.close();
    await this.loopDone?.catch(() => {});
    this.waiters.closeAll(new ValidationError('queueEvents', 'closed while waiting'));
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

// A partitioned reader is a QueueEvents: `instanceof QueueEvents` holds.
Object.setPrototypeOf(PartitionedQueueEvents.prototype, QueueEvents.prototype);
