import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { clientPassword, createClient, reconnectDelay } from '../redis/connection.js';
import { redactError } from '../redis/redact.js';
import { callScript, defineScripts } from '../redis/scripts.js';
import { ValidationError } from '../util/errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { within } from '../util/within.js';
import { Committer } from './committer.js';
import { Consumer } from './consumer.js';
import { EventStream } from './event-stream.js';
import { Janitor } from './janitor.js';
import { Keepalive } from './keepalive.js';
import { type StreamKeys, streamKeys } from './keys.js';
import { streamScripts } from './scripts.js';
import type { StreamProcessorOptions } from './types.js';
import { integerOption, validateName } from './validate.js';

/** Dead letters kept by default: the newest 100,000. */
export const DEFAULT_DEAD_MAX_LEN = 100_000;

/**
 * Moves a stream's entries into a sink through a consumer group: a pool of
 * `consumers` in this process (other processes may run more), hybrid batching,
 * acknowledgement only after the sink resolves, claims of stopped consumers'
 * entries, isolation and dead-lettering of entries the sink rejects, and a
 * graceful close. The parts: Consumer (read, batch, claim, retry), Committer
 * (sink, ack, bisect, dead letter), Keepalive (keeps held entries from looking
 * idle), Janitor (removes stopped consumers).
 *
 * Events: `batch` (count, ms) for each committed sink call, `dead` (entry, error),
 * `error` (error) for sink and Redis errors (logged when nobody listens).
 */
export class StreamProcessor extends EventEmitter {
  readonly stream: string;
  readonly group: string;
  readonly consumerNames: string[];
  private readonly keys: StreamKeys;
  private readonly client: Redis;
  private readonly readers: Redis[] = [];
  private readonly consumers: Consumer[] = [];
  private readonly committer: Committer;
  private readonly keepalive: Keepalive;
  private readonly janitor: Janitor;
  private readonly logger: Logger;
  private readonly shutdownTimeout: number;
  private readonly started: Promise<void>;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(stream: EventStream | string, group: string, options: StreamProcessorOptions) {
    super();
    const prefix =
      stream instanceof EventStream ? stream.prefix : validateName('prefix', options?.prefix ?? 'hopper');
    this.stream = stream instanceof EventStream ? stream.name : validateName('stream', stream);
    this.group = validateName('group', group);
    if (typeof options?.sink !== 'function')
      throw new ValidationError('sink', 'must be a function (batch) => Promise');
    const count = integerOption('consumers', options.consumers, 5, 1, 1000);
    const batchSize = integerOption('batchSize', options.batchSize, 100, 1, 10_000);
    const flushInterval = integerOption('flushInterval', options.flushInterval, 1000, 1);
    const maxDeliveries = integerOption('maxDeliveries', options.maxDeliveries, 5, 1);
    const deadMaxLen = integerOption('deadMaxLen', options.deadMaxLen, DEFAULT_DEAD_MAX_LEN, 0);
    const claimIdle = integerOption('claimIdle', options.claimIdle, 30_000, 10);
    this.shutdownTimeout = integerOption('shutdownTimeout', options.shutdownTimeout, 30_000, 0);
    const consumerTimeout = integerOption('consumerTimeout', options.consumerTimeout, 10 * 60_000, 10);
    this.logger = options.logger ?? defaultLogger('hopper:stream');
    this.keys = streamKeys(prefix, this.stream);

    this.client = createClient(options.connection, 'command');
    this.client.on('error', () => {}); // reconnects on its own
    defineScripts(this.client, streamScripts);
    this.committer = new Committer(
      this.client,
      this.keys,
      this.stream,
      this.group,
      options.sink,
      maxDeliveries,
      deadMaxLen,
    );
    this.committer.on('batch', (n: number, ms: number) => this.emit('batch', n, ms));
    this.committer.on('dead', (entry, err: Error) => {
      this.logger.warn(
        {
          stream: this.stream,
          group: this.group,
          id: entry.id,
          deliveries: entry.deliveries,
          err: err.message,
        },
        'entry moved to the dead-letter stream',
      );
      this.emit('dead', entry, err);
    });
    this.committer.on('error', (err) => this.fail(err));

    // Unique per process and per start: a restarted process never inherits a dead one's name.
    const base = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.consumerNames = [];
    for (let i = 0; i < count; i++) {
      const name = `${base}:${i}`;
      const reader = createClient(options.connection, 'blocking');
      reader.on('error', () => {});
      this.readers.push(reader);
      this.consumerNames.push(name);
      this.consumers.push(
        new Consumer(
          name,
          {
            client: this.client,
            keys: this.keys,
            streamName: this.stream,
            group: this.group,
            batchSize,
            flushInterval,
            claimIdle,
            committer: this.committer,
            logger: this.logger,
            onError: (e) => this.fail(e),
          },
          reader,
        ),
      );
    }
    this.keepalive = new Keepalive(this.client, this.keys, this.group, this.consumers, claimIdle, (e) =>
      this.fail(e),
    );
    this.janitor = new Janitor(
      this.client,
      this.keys,
      this.group,
      new Set(this.consumerNames),
      consumerTimeout,
      this.logger,
      (e) => this.fail(e),
    );
    this.started = this.start();
  }

  /** Resolves once the group exists and the consumers run. */
  ready(): Promise<void> {
    return this.started;
  }

  private async start(): Promise<void> {
    // The group reads the stream from its start: nothing appended before it existed is skipped.
    for (let attempt = 0; !this.closing; attempt++) {
      try {
        await this.client.xgroup('CREATE', this.keys.stream, this.group, '0', 'MKSTREAM');
        break;
      } catch (err) {
        if (String((err as Error).message).startsWith('BUSYGROUP')) break;
        this.fail(err);
        await new Promise((r) => setTimeout(r, reconnectDelay(attempt)));
      }
    }
    if (this.closing) return;
    this.keepalive.start();
    this.janitor.start();
    for (const c of this.consumers) c.start();
    const ctx = { stream: this.stream, group: this.group };
    this.logger.info(ctx, `Event processor started with ${this.consumers.length} consumers`);
    for (const c of this.consumers) this.logger.info({ ...ctx, consumer: c.name }, `[${c.name}] Started`);
  }

  /** Removes stopped consumers now (the janitor also does it on a timer). Resolves to their names. */
  removeStoppedConsumers(): Promise<string[]> {
    return this.janitor.sweep();
  }

  /**
   * Graceful shutdown: stop reading, flush every consumer's batch in hand (and its
   * retries) and acknowledge it, all within `shutdownTimeout`. What cannot be
   * committed in time stays pending and is claimed by another processor after claimIdle.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + this.shutdownTimeout;
    const ctx = { stream: this.stream, group: this.group };
    this.logger.info(ctx, '[EventProcessor] Stopping consumers...');
    await within(this.started, this.shutdownTimeout);
    let pending = 0;
    await Promise.all(
      this.consumers.map(async (c) => {
        const { flushed, left } = await c.stop(deadline);
        pending += left;
        this.logger.info(
          { ...ctx, consumer: c.name, flushed, left },
          `[${c.name}] Stopped (flushed ${flushed} entries${left > 0 ? `, ${left} left pending` : ''})`,
        );
        if (left === 0) {
          // Leaves no name behind in the group; a consumer still holding entries keeps its name until they are claimed.
          await within(
            callScript(this.client, 'remove-consumer', [this.keys.stream], [this.group, c.name]).catch(
              () => {},
            ),
            1000,
          );
        }
      }),
    );
    this.keepalive.stop();
    this.janitor.stop();
    if (pending === 0) this.logger.info(ctx, '[EventProcessor] All consumers stopped gracefully');
    else
      this.logger.warn(
        { ...ctx, pending },
        `[EventProcessor] Stopped with ${pending} entries still pending: another processor claims them after claimIdle`,
      );
    await within(
      this.client.quit().catch(() => {}),
      1000,
    );
    this.client.disconnect();
    for (const r of this.readers) r.disconnect();
  }

  /** Reports an error without ever crashing the process for want of a listener. */
  private fail(err: unknown): void {
    const clean = redactError(err, [clientPassword(this.client)]);
    if (this.listenerCount('error') > 0) this.emit('error', clean);
    else
      this.logger.error(
        { stream: this.stream, group: this.group, err: clean.message },
        'stream processor error',
      );
  }
}
