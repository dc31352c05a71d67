import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { metricsOption } from '../../metrics/options.js';
import { WorkerMetrics } from '../../metrics/worker-metrics.js';
import { createClient, reconnectDelay } from '../../redis/connection.js';
import { redactError } from '../../redis/redact.js';
import { callScript, defineScripts } from '../../redis/scripts.js';
import { endAttempt, loadTracing, traceAttempt } from '../../tracing/index.js';
import { ValidationError } from '../../util/errors.js';
import { defaultLogger, type Logger } from '../../util/logger.js';
import { within } from '../../util/within.js';
import { backoffDelay } from '../backoff.js';
import { type QueueKeys, queueKeys, registryKey, workerRepliesKey } from '../keys.js';
import { SEP, serializeError } from '../record.js';
import { DEFAULT_KEEP_COMPLETED, DEFAULT_KEEP_FAILED, retentionArgs } from '../retention.js';
import { Scheduler } from '../schedule/scheduler.js';
import { scriptKeys } from '../script-keys.js';
import { queueScripts } from '../scripts.js';
import { warnAboutServer } from '../server-warnings.js';
import { START_WINDOW_MS } from '../start-window.js';
import type { Handler, WorkerOptions } from '../types.js';
import { validatePrefix, validateQueueName } from '../validate.js';
import { Acker, type Settlement } from './acker.js';
import { Annotator } from './annotator.js';
import type { WorkerEvents, WorkerListener } from './events.js';
import { Fetcher, WorkerState } from './fetcher.js';
import { Heartbeat, type HeldReport } from './heartbeat.js';
import type { HeldJob } from './job.js';
import { booleanOption, integerOption, MAX_TIMER_MS } from './options.js';
import { type Outcome, runAttempt } from './processor.js';
import { Timeouts } from './timeouts.js';

/** Longest a worker blocks waiting for work before it looks again (delayed jobs, pause). */
const MAX_BLOCK_MS = 2000;
/** Adaptive prefetch keeps about this much work in hand beyond the running jobs. */
const PREFETCH_WINDOW_MS = 10;
const MAX_PREFETCH = 500;

/**
 * Runs a queue's jobs. The worker is a manager of small parts: the Fetcher takes
 * jobs in batches and blocks for new ones, runAttempt runs one handler, the Acker
 * acknowledges outcomes in batches, and the Heartbeat keeps the lease.
 *
 * Events: `completed` (job, result), `failed` (job, error), `error` (error),
 * `drained` (the queue had nothing left for this worker), `lost` (job: its
 * outcome was rejected because the lease had lapsed).
 */
// Typed on/once/off/emit for the events above (events.ts); the class keeps EventEmitter's runtime.
export interface Worker<D = unknown, R = unknown> {
  on<E extends keyof WorkerEvents<D, R>>(event: E, listener: WorkerListener<D, R, E>): this;
  once<E extends keyof WorkerEvents<D, R>>(event: E, listener: WorkerListener<D, R, E>): this;
  off<E extends keyof WorkerEvents<D, R>>(event: E, listener: WorkerListener<D, R, E>): this;
  addListener<E extends keyof WorkerEvents<D, R>>(event: E, listener: WorkerListener<D, R, E>): this;
  removeListener<E extends keyof WorkerEvents<D, R>>(event: E, listener: WorkerListener<D, R, E>): this;
  prependListener<E extends keyof WorkerEvents<D, R>>(event: E, listener: WorkerListener<D, R, E>): this;
  emit<E extends keyof WorkerEvents<D, R>>(event: E, ...args: WorkerEvents<D, R>[E]): boolean;
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class Worker<D = unknown, R = unknown> extends EventEmitter {
  readonly id: string;
  readonly name: string;
  readonly concurrency: number;
  private readonly keys: QueueKeys;
  private readonly repliesKey: string;
  private readonly prefix: string;
  /** Fixed prefetch, or undefined to adapt it to how long handlers take. */
  private readonly fixedPrefetch: number | undefined;
  /** Moving average of handler time in ms (undefined until the first job ends). */
  private avgJobMs: number | undefined;
  private readonly timeouts: Timeouts;
  private readonly leaseMs: number;
  private readonly jobTimeout: number;
  private readonly client: Redis;
  private readonly blocking: Redis;
  private readonly fetcher: Fetcher;
  private readonly acker: Acker;
  private readonly heartbeat: Heartbeat;
  private readonly scheduler: Scheduler | undefined;
  private readonly logger: Logger;
  private readonly metrics: WorkerMetrics | undefined;
  /** Jobs fetched but not started: reserved for this worker, in the order they are to run. */
  private readonly buffer: HeldJob[] = [];
  /**
   * performance.now() until which reserved jobs may start: a call's send time plus
   * startWindow, renewed by every reply that found the queue running and the lease
   * held. Past it (a pause, a process stopped past its lease) a job starts only
   * after Redis confirms; fast queues renew it with every fetch and settle anyway.
   */
  private startUntil = 0;
  private readonly startWindow: number;
  private readonly running = new Map<string, HeldJob>();
  private started = false;
  private closing = false;
  private loopDone: Promise<void> | undefined;
  private slotFreed: (() => void) | undefined;
  private drained = false;
  /** The queue has limits (the last fetch said so): fetch no more than free slots. */
  private limited = false;
  /** The last fetch found nothing: once in-hand work ends, the worker is drained. */
  private queueEmpty = false;
  private closed: Promise<void> | undefined;

  constructor(
    name: string,
    private readonly handler: Handler<D, R>,
    options: WorkerOptions = {},
  ) {
    super();
    this.name = validateQueueName(name);
    // Everything is checked before anything connects: a bad worker writes nothing.
    if (typeof handler !== 'function')
      throw new ValidationError('handler', `must be a function (job) => result, got ${typeof handler}`);
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('options', 'must be an object of WorkerOptions');
    this.prefix = validatePrefix(options.prefix);
    this.keys = queueKeys(this.prefix, name);
    this.concurrency = integerOption('concurrency', options.concurrency, 1, 1, 10_000);
    this.fixedPrefetch =
      options.prefetch === undefined ? undefined : integerOption('prefetch', options.prefetch, 0, 0, 10_000);
    // Timers cannot wait longer than MAX_TIMER_MS: a longer one fires at once.
    this.leaseMs = integerOption('leaseMs', options.leaseMs, 30_000, 100, MAX_TIMER_MS);
    this.jobTimeout = integerOption('jobTimeout', options.jobTimeout, 5 * 60_000, 0, MAX_TIMER_MS);
    const maxStalls = integerOption('maxStalls', options.maxStalls, 1, 0);
    // Within the lease: a permission to start never outlives the lease renewed with it.
    this.startWindow = Math.min(START_WINDOW_MS, Math.floor(this.leaseMs / 2));
    booleanOption('autorun', options.autorun);
    booleanOption('schedules', options.schedules);
    const metrics = metricsOption(options.metrics);
    this.logger = options.logger ?? defaultLogger('hopper:worker');
    // 32 random bytes make every lease value longer than Redis's hash-max-listpack-value
    // (64), so `active` is always a real hash table with O(1) lookups, never a listpack
    // scanned field by field.
    this.id = `${hostname()}:${process.pid}:${randomBytes(32).toString('hex')}`;

    this.repliesKey = workerRepliesKey(this.keys, this.id);
    this.client = createClient(options.connection, 'command');
    this.blocking = createClient(options.connection, 'blocking');
    for (const c of [this.client, this.blocking]) c.on('error', () => {}); // reconnects on its own
    defineScripts(this.client, queueScripts);
    warnAboutServer(this.client, this.logger);

    this.fetcher = new Fetcher(
      this.client,
      this.blocking,
      this.keys,
      this.id,
      this.leaseMs,
      this.repliesKey,
      new Annotator(this.client, this.keys),
    );
    this.acker = new Acker(
      this.client,
      this.keys,
      this.repliesKey,
      this.id,
      this.leaseMs,
      () => ({ reserved: this.buffer.length, seen: this.fetcher.seen }),
      (applied, lost, sentAt, state) => this.settled(applied, lost, sentAt, state),
      (e) => this.fail(e),
    );
    this.heartbeat = new Heartbeat(
      this.client,
      this.keys,
      this.repliesKey,
      this.id,
      this.leaseMs,
      maxStalls,
      DEFAULT_KEEP_FAILED,
      () => this.heldReport(),
      (sentAt, state) => this.renewed(sentAt, state),
      (r) => {
        this.logger.debug({ queue: name, ...r }, 'heartbeat upkeep');
        this.metrics?.heartbeat(r);
      },
      (e) => this.fail(e),
    );
    this.metrics = metrics && new WorkerMetrics(this.client, this.keys.tag, metrics, (e) => this.fail(e));
    if (options.schedules !== false)
      this.scheduler = new Scheduler(
        this.client,
        this.keys,
        (e) => this.fail(e),
        (r) => this.metrics?.added(r.made),
      );
    this.timeouts = new Timeouts((job, err) => {
      job.abort(err);
      this.finish({ ok: false, job, error: err, unrecoverable: false });
    });
    if (options.autorun !== false) this.run();
  }

  /**
   * Jobs this worker may hold: its slots plus a prefetch buffer, so that the next
   * jobs are already here when a slot frees. Unless fixed by `prefetch`, the buffer
   * covers about PREFETCH_WINDOW_MS of work: large for fast handlers (many jobs per
   * round trip), one or two for slow ones (no jobs idling here that another worker
   * could run).
   */
  private capacity(): number {
    // Under limits, a job fetched ahead holds a slot of the limit while it idles here.
    if (this.limited) return this.concurrency;
    let prefetch = this.fixedPrefetch;
    if (prefetch === undefined) {
      prefetch =
        this.avgJobMs === undefined
          ? Math.min(this.concurrency, 100)
          : Math.round((this.concurrency * PREFETCH_WINDOW_MS) / Math.max(this.avgJobMs, 0.001));
      prefetch = Math.min(MAX_PREFETCH, Math.max(1, prefetch));
    }
    return this.concurrency + prefetch;
  }

  /** Starts fetching and processing (done by the constructor unless `autorun: false`). */
  run(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.client.sadd(registryKey(this.prefix), this.name).catch(() => {});
    this.heartbeat.start();
    this.scheduler?.start();
    // The optional OpenTelemetry import settles before the first job runs.
    this.loopDone = loadTracing().then(() => this.loop());
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      const inHand = this.buffer.length + this.running.size;
      const capacity = this.capacity();
      const room = capacity - inHand;
      // Wait for a useful amount of room so each fetch carries a batch.
      if (inHand > 0 && room < Math.max(1, Math.floor(capacity / 4))) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
        continue;
      }
      try {
        const sentAt = performance.now();
        const free = Math.max(0, this.concurrency - this.running.size);
        const { jobs, nextDue, limited, state } = await this.fetcher.fetch(room, this.buffer.length, free);
        failures = 0;
        this.limited = limited;
        this.queueEmpty = jobs.length === 0;
        // First, as it concerns the jobs held before this fetch (and permits this fetch's).
        this.renewed(sentAt, state);
        if (jobs.length > 0 && state & WorkerState.LAPSED) {
          // The reply may be a replay (fetch.lua answers a resent request id with its stored
          // reply): its jobs may have been taken back and run while the lease was lapsed.
          // Release puts back only those still leased to this worker.
          this.release(jobs, 'back');
          continue;
        }
        if (jobs.length > 0) {
          this.drained = false;
          this.buffer.push(...jobs);
          if (this.closing) break;
          this.pump();
          continue;
        }
        this.maybeDrained();
        if (this.closing) break;
        await this.fetcher.waitForWork(nextDue >= 0 ? Math.min(nextDue + 1, MAX_BLOCK_MS) : MAX_BLOCK_MS);
      } catch (err) {
        if (this.closing) break;
        this.fail(err);
        await new Promise((r) => setTimeout(r, reconnectDelay(failures++)));
      }
    }
  }

  /** Starts reserved jobs while slots are free, if Redis recently said they may start. */
  private pump(): void {
    if (this.buffer.length === 0 || this.running.size >= this.concurrency || this.closing) return;
    if (performance.now() >= this.startUntil) {
      // Ask Redis: a settle about to be sent (a job just ended) will say, else a beat now.
      if (!this.acker.hasUnsent) this.heartbeat.beatNow();
      return;
    }
    while (this.running.size < this.concurrency && this.buffer.length > 0) {
      const job = this.buffer.shift()!;
      this.running.set(job.id, job);
      this.timeouts.watch(job, job.opts.timeout ?? this.jobTimeout, this.isRunning, this.running.size);
      job.startedAt = performance.now();
      traceAttempt(this.name, job, this.attempt).then((o) => this.finish(o));
    }
  }

  private maybeDrained(): void {
    if (this.queueEmpty && !this.drained && this.running.size === 0 && this.buffer.length === 0) {
      this.drained = true;
      this.notify('drained');
    }
  }

  private readonly isRunning = (job: HeldJob) => this.running.get(job.id) === job;
  private readonly attempt = (job: HeldJob) => runAttempt(this.handler as Handler, job);

  /** Ends the running attempt of `outcome.job`: by its handler, or by its timeout (whichever comes first). */
  private finish(outcome: Outcome): void {
    const job = outcome.job;
    // A job that timed out, or that close gave back, is not acknowledged again.
    if (!this.isRunning(job)) return;
    this.running.delete(job.id);
    const tookMs = performance.now() - job.startedAt;
    endAttempt(job, outcome.ok ? undefined : outcome.error);
    this.avgJobMs = this.avgJobMs === undefined ? tookMs : this.avgJobMs * 0.9 + tookMs * 0.1;
    this.metrics?.attempt(job, tookMs);
    this.acker.push(this.settlement(outcome));
    this.pump();
    this.maybeDrained();
    this.wakeLoop();
  }

  private settlement(outcome: Outcome): Settlement {
    const opts = outcome.job.opts;
    if (outcome.ok) {
      const [keepAge, keepCount] = retentionArgs(opts.removeOnComplete ?? DEFAULT_KEEP_COMPLETED);
      return { outcome, payload: outcome.resultJson, retryDelay: -1, keepAge, keepCount };
    }
    const [keepAge, keepCount] = retentionArgs(opts.removeOnFail ?? DEFAULT_KEEP_FAILED);
    const attempt = outcome.job.attemptsMade + 1;
    const last = outcome.unrecoverable || attempt >= (opts.attempts ?? 1);
    const retryDelay = last ? -1 : backoffDelay(opts.backoff, attempt);
    return { outcome, payload: serializeError(outcome.error), retryDelay, keepAge, keepCount };
  }

  /**
   * A reply to one of this worker's calls (sent at `sentAt`) says whether its
   * reserved jobs may start. Paused: they go back to the queue, in their order. Lease
   * lapsed before the call: they may have gone to another worker meanwhile (this
   * process was stopped, or blocked, past its lease), so they go back too (release
   * puts back only those still leased to this worker). Otherwise they may start
   * for startWindow from the send.
   */
  private renewed(sentAt: number, state: number): void {
    if (state & (WorkerState.PAUSED | WorkerState.LAPSED) && this.buffer.length > 0) {
      if (state & WorkerState.LAPSED)
        this.logger.warn(
          { queue: this.name, jobs: this.buffer.length },
          'lease had lapsed: jobs fetched before are not started',
        );
      this.release(this.buffer.splice(0), 'back');
      this.wakeLoop();
    }
    this.startUntil = state & WorkerState.PAUSED ? 0 : sentAt + this.startWindow;
    this.pump();
  }

  /** What the heartbeat reports: every job this worker holds, reserved, running or not yet acknowledged. */
  private heldReport(): HeldReport {
    const parts: string[] = [];
    for (const j of this.buffer) parts.push(j.id, j.token);
    for (const j of this.running.values()) parts.push(j.id, j.token);
    for (const { outcome } of this.acker.unsettled()) parts.push(outcome.job.id, outcome.job.token);
    return {
      reserved: this.buffer.length,
      seen: this.fetcher.seen,
      expected: this.buffer.length + this.running.size + this.acker.unsent,
      held: parts.join(SEP),
    };
  }

  private wakeLoop(): void {
    const wake = this.slotFreed;
    this.slotFreed = undefined;
    wake?.();
  }

  private settled(applied: Settlement[], lost: Settlement[], sentAt: number, state: number): void {
    this.renewed(sentAt, state);
    this.metrics?.settled(applied);
    for (const { outcome } of applied) {
      if (outcome.ok) this.notify('completed', outcome.job, outcome.result);
      else this.notify('failed', outcome.job, outcome.error);
    }
    for (const { outcome } of lost) {
      this.logger.warn(
        { queue: this.name, job: outcome.job.id },
        'outcome rejected: the lease on this job had lapsed',
      );
      this.notify('lost', outcome.job);
    }
  }

  /**
   * Emits an event from the worker's own loops. A listener that throws must not stop
   * them (the acknowledgement loop would wedge with its jobs left active): the throw
   * is reported on `error` instead.
   */
  private notify(event: string, ...args: unknown[]): void {
    try {
      (this as EventEmitter).emit(event, ...args);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reports an error without ever crashing the process for want of a listener, or for a listener that throws. */
  private fail(err: unknown): void {
    const clean = redactError(err, [this.client.options.password ?? '']);
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', clean);
        return;
      } catch (listenerErr) {
        this.logger.error(
          { queue: this.name, err: (listenerErr as Error)?.message },
          'worker error listener threw',
        );
      }
    }
    this.logger.error({ queue: this.name, err: clean.message }, 'worker error');
  }

  /**
   * Graceful shutdown: stop fetching, give back jobs fetched but not started,
   * let running jobs finish within `timeout` ms, then give back the unfinished
   * ones at once (their signal is aborted) rather than after a lease lapses.
   */
  close(opts: { timeout?: number } = {}): Promise<void> {
    this.closed ??= this.shutdown(opts.timeout ?? 30_000);
    return this.closed;
  }

  private async shutdown(timeout: number): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + timeout;
    const left = () => Math.max(0, deadline - Date.now());
    this.blocking.disconnect(); // ends a BRPOP in progress
    this.slotFreed?.();
    const schedulerStopped = this.scheduler?.stop();
    // A fetch waiting on a Redis that is down must not hold close past its timeout.
    await within(this.loopDone, left());
    if (this.buffer.length > 0) await within(this.release(this.buffer.splice(0), 'back'), left());
    while (this.running.size > 0 && left() > 0) {
      await new Promise<void>((resolve) => {
        this.slotFreed = resolve;
        setTimeout(resolve, Math.min(100, Math.max(1, left())));
      });
    }
    const unfinished = [...this.running.values()];
    this.running.clear();
    for (const job of unfinished) {
      const err = new Error('worker closed before the job finished');
      job.abort(err);
      endAttempt(job, err);
    }
    this.timeouts.stop();
    await this.acker.whenIdle(Math.max(1000, left()));
    // Also ends this worker's lease, so nobody waits for it to lapse.
    await within(this.release(unfinished, 'close'), Math.max(1000, left()));
    this.heartbeat.stop();
    await within(schedulerStopped, left());
    await within(
      this.metrics?.close().catch((e) => this.fail(e)),
      1000,
    );
    await within(
      this.client.quit().catch(() => {}),
      1000,
    );
    this.client.disconnect();
  }

  /** Gives jobs back to the queue, in their order ('close' also ends the lease). */
  private async release(jobs: HeldJob[], mode: 'back' | 'close'): Promise<void> {
    const args: (string | number)[] = [this.id, mode, this.buffer.length, this.fetcher.seen];
    for (const j of jobs) args.push(j.id, j.token);
    try {
      await callScript<number>(this.client, 'release', scriptKeys(this.keys, this.repliesKey), args);
    } catch (err) {
      this.fail(err); // the lease will lapse and the jobs come back anyway
    }
  }
}
