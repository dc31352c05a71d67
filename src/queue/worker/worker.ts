import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { FlowDelivery } from '../../flow/delivery.js';
import { metricsOption } from '../../metrics/options.js';
import { WorkerMetrics } from '../../metrics/worker-metrics.js';
import { clientPassword, createClient, reconnectDelay } from '../../redis/connection.js';
import { redactError } from '../../redis/redact.js';
import { callScript, defineScripts } from '../../redis/scripts.js';
import { endAttempt, loadTracing, traceAttempt } from '../../tracing/index.js';
import { CancelledError, JobDeferredError, JobStateError, ValidationError } from '../../util/errors.js';
import { defaultLogger, type Logger } from '../../util/logger.js';
import { within } from '../../util/within.js';
import { backoffDelay } from '../backoff.js';
import { type QueueKeys, queueKeys, registryKey, workerRepliesKey } from '../keys.js';
import { refusePartitioned } from '../partitions/registry.js';
import { isPartition, offerSlots, partitionRole, type SharedSlots } from '../partitions/role.js';
import { PartitionedWorker } from '../partitions/worker.js';
import { SEP, serializeError } from '../record.js';
import { DEFAULT_KEEP_COMPLETED, DEFAULT_KEEP_FAILED, retentionArgs } from '../retention.js';
import { Scheduler } from '../schedule/scheduler.js';
import { scriptKeys } from '../script-keys.js';
import { queueScripts } from '../scripts.js';
import { warnAboutServer } from '../server-warnings.js';
import { START_WINDOW_MS } from '../start-window.js';
import type { Handler, Job, WorkerOptions } from '../types.js';
import { MAX_DELAY_MS, validateDurability, validatePrefix, validateQueueName } from '../validate.js';
import { Acker, type Settlement } from './acker.js';
import { Annotator } from './annotator.js';
import { CancelListener, cancelChannel } from './cancel.js';
import type { WorkerEventsMap } from './events.js';
import { Fetcher, recallTime, WorkerState } from './fetcher.js';
import { Heartbeat, type HeldReport } from './heartbeat.js';
import { newWorkerId } from './id.js';
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
 * Events (typed, WorkerEventsMap): `active` (job), `progress` (job, value),
 * `completed` (job, result), `failed` (job, error), `error` (error), `drained`
 * (the queue had nothing left for this worker), `lost` (job: its outcome was
 * rejected because the lease had lapsed), `paused`, `resumed`.
 */
export class Worker<D = unknown, R = unknown> extends EventEmitter<WorkerEventsMap<D, R>> {
  // Fields marked `!` are set by the constructor, except when it returns a PartitionedWorker instead.
  readonly id!: string;
  readonly name!: string;
  /** Handlers running at once; `worker.concurrency = n` changes it while the worker runs. */
  private slots!: number;
  private readonly keys!: QueueKeys;
  private readonly repliesKey!: string;
  private readonly prefix!: string;
  /** Fixed prefetch, or undefined to adapt it to how long handlers take. */
  private readonly fixedPrefetch!: number | undefined;
  /** Moving average of handler time in ms (undefined until the first job ends). */
  private avgJobMs: number | undefined;
  private readonly timeouts!: Timeouts;
  private readonly leaseMs!: number;
  private readonly jobTimeout!: number;
  private readonly client!: Redis;
  private readonly blocking!: Redis;
  private readonly fetcher!: Fetcher;
  private readonly acker!: Acker;
  private readonly heartbeat!: Heartbeat;
  private readonly scheduler: Scheduler | undefined;
  /** Delivers flow children's outcomes to their parents (src/flow). */
  private readonly flows!: FlowDelivery;
  private readonly logger!: Logger;
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
  /** The latest recall its calls reported (recallTime): a lapse of its lease, or a group pause. */
  private recallSeen = 0;
  /** performance.now() when recallSeen last rose: a call sent after it ran after that recall. */
  private recallRoseAt = 0;
  private readonly startWindow!: number;
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
  /** worker.pause(): fetch and start nothing until resume(). */
  private paused = false;
  private resumeLoop: (() => void) | undefined;
  private readonly backoffStrategy!: WorkerOptions['backoffStrategy'];
  /** A partition's worker: the concurrency budget all partitions share (partitions/role.ts). */
  private readonly shared: SharedSlots | undefined;
  /** Hears queue.cancel() from any process (one subscriber connection, opened by run()). */
  private readonly cancels!: CancelListener;
  /** False for a partition's Worker: the command and cancel connections are its partitioned Worker's. */
  private readonly ownsConnections!: boolean;

  constructor(
    name: string,
    /** null: a manual worker (getNextJob, completeJob, failJob), for custom consumers. */
    private readonly handler: Handler<D, R> | null,
    options: WorkerOptions = {},
  ) {
    super();
    this.name = validateQueueName(name);
    // Everything is checked before anything connects: a bad worker writes nothing.
    if (typeof handler !== 'function' && handler !== null)
      throw new ValidationError(
        'handler',
        `must be a function (job) => result or null, got ${typeof handler}`,
      );
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('options', 'must be an object of WorkerOptions');
    // `partitions`: one Worker per partition behind this one (src/queue/partitions).
    if (options.partitions !== undefined && !isPartition(options))
      // biome-ignore lint/correctness/noConstructorReturn: the partitioned worker stands in for this one
      return new PartitionedWorker<D, R>(
        name,
        options,
        (n, o) => new Worker<D, R>(n, handler, o),
      ) as unknown as Worker<D, R>;
    const role = partitionRole(options);
    this.shared = role?.slots;
    if (role?.slots)
      role.slots.pumps[role.index] = () => {
        this.pump();
        this.wakeLoop();
      };
    this.prefix = validatePrefix(options.prefix);
    this.keys = queueKeys(this.prefix, name);
    this.slots = integerOption('concurrency', options.concurrency, 1, 1, 10_000);
    this.fixedPrefetch =
      options.prefetch === undefined ? undefined : integerOption('prefetch', options.prefetch, 0, 0, 10_000);
    // Timers cannot wait longer than MAX_TIMER_MS: a longer one fires at once.
    this.leaseMs = integerOption('leaseMs', options.leaseMs, 30_000, 100, MAX_TIMER_MS);
    this.jobTimeout = integerOption('jobTimeout', options.jobTimeout, 5 * 60_000, 0, MAX_TIMER_MS);
    const maxStalls = integerOption('maxStalls', options.maxStalls, 1, 0);
    // Within the lease: a permission to start never outlives the lease renewed with it.
    this.startWindow = Math.min(START_WINDOW_MS, Math.floor(this.leaseMs / 2));
    booleanOption('autorun', options.autorun);
    if (options.backoffStrategy !== undefined && typeof options.backoffStrategy !== 'function')
      throw new ValidationError('backoffStrategy', 'must be a function (attemptsMade, error, job) => ms');
    this.backoffStrategy = options.backoffStrategy;
    booleanOption('schedules', options.schedules);
    const metrics = metricsOption(options.metrics);
    const durability = validateDurability(options.durability);
    this.logger = options.logger ?? defaultLogger('hopper:worker');
    // A partition's Worker takes its partitioned Worker's id (role.ts); see id.ts for the form.
    this.id = role?.workerId ?? newWorkerId();

    this.repliesKey = workerRepliesKey(this.keys, this.id);
    // A partition's Worker shares its partitioned Worker's command and cancel connections (role.ts).
    const shared = role?.connections;
    this.ownsConnections = shared === undefined;
    this.client = shared?.client ?? createClient(options.connection, 'command');
    this.blocking = createClient(options.connection, 'blocking');
    for (const c of shared ? [this.blocking] : [this.client, this.blocking]) c.on('error', () => {}); // reconnects on its own
    defineScripts(this.client, queueScripts);
    if (!shared) warnAboutServer(this.client, this.logger);

    this.fetcher = new Fetcher(
      this.client,
      this.blocking,
      this.keys,
      this.id,
      this.leaseMs,
      this.repliesKey,
      new Annotator(this.client, this.keys, this.prefix),
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
      durability,
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
    this.flows = new FlowDelivery(
      this.client,
      this.prefix,
      name,
      this.keys,
      (e) => this.fail(e),
      (n) => this.logger.info({ queue: name, outcomes: n }, 'flow outcomes delivered by the recovery sweep'),
    );
    this.metrics = metrics && new WorkerMetrics(this.client, this.keys.tag, metrics, (e) => this.fail(e));
    if (options.schedules !== false)
      this.scheduler = new Scheduler(
        this.client,
        this.keys,
        (e) => this.fail(e),
        (r) => this.metrics?.added(r.made),
      );
    this.cancels = shared?.cancels ?? new CancelListener(options.connection);
    this.cancels.listen(
      cancelChannel(this.keys),
      (id, token, reason) => {
        const job = this.running.get(id);
        if (job && job.token === token) this.cancelJob(id, reason);
      },
      (e) => this.fail(e),
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
    if (this.limited) return this.slots;
    let prefetch = this.fixedPrefetch;
    if (prefetch === undefined) {
      prefetch =
        this.avgJobMs === undefined
          ? Math.min(this.slots, 100)
          : Math.round((this.slots * PREFETCH_WINDOW_MS) / Math.max(this.avgJobMs, 0.001));
      prefetch = Math.min(MAX_PREFETCH, Math.max(1, prefetch));
    }
    return this.slots + prefetch;
  }

  get concurrency(): number {
    return this.slots;
  }

  /**
   * Changes how many handlers run at once, while the worker runs: a raise starts
   * reserved or newly fetched jobs at once; a cut lets running jobs finish and
   * starts no new one until fewer than `n` run.
   */
  set concurrency(n: number) {
    this.slots = integerOption('concurrency', n, 1, 1, 10_000);
    this.pump();
    this.wakeLoop();
  }

  /** Whether worker.pause() is in effect. */
  isPaused(): boolean {
    return this.paused;
  }

  /**
   * This worker stops taking jobs (other workers go on; queue.pause() stops them all):
   * jobs it fetched ahead go back in line at once, and the promise resolves once its
   * running jobs ended (at once with `doNotWaitActive`).
   */
  async pause(opts: { doNotWaitActive?: boolean } = {}): Promise<void> {
    if (this.closing) return;
    if (!this.paused) {
      this.paused = true;
      if (this.buffer.length > 0) await this.release(this.buffer.splice(0), 'back');
      this.notify('paused');
    }
    while (!opts.doNotWaitActive && this.paused && this.running.size > 0) {
      await new Promise<void>((resolve) => {
        // The fetch loop may be waiting on slotFreed too: wake both.
        const loopWaiting = this.slotFreed;
        this.slotFreed = () => {
          loopWaiting?.();
          resolve();
        };
        setTimeout(resolve, 100);
      });
    }
  }

  /** Undoes pause(): the worker takes and starts jobs again. */
  resume(): void {
    if (!this.paused || this.closing) return;
    this.paused = false;
    const wake = this.resumeLoop;
    this.resumeLoop = undefined;
    wake?.();
    this.notify('resumed');
  }

  /**
   * Cancels a job this worker is running: its `signal` aborts with a CancelledError,
   * its slot frees at once, and it fails for good (no further attempt), unless its
   * handler had already returned. False when this worker does not run it.
   * queue.cancel(id) does this from any process.
   */
  cancelJob(id: string, reason = 'cancelled'): boolean {
    const job = this.running.get(id);
    if (!job) return false;
    const err = new CancelledError(`job ${id} cancelled: ${reason}`);
    job.abort(err);
    this.finish({ ok: false, job, error: err, unrecoverable: true });
    return true;
  }

  /** Resolves at once for a plain queue; a partitioned one rejects with PartitionCountError on a count mismatch. */
  waitUntilReady(): Promise<void> {
    return Promise.resolve();
  }

  /** @internal The worker's command connection (a partitioned worker checks its registry with it). */
  get redis(): Redis {
    return this.client;
  }

  /** Starts fetching and processing (done by the constructor unless `autorun: false`). */
  run(): void {
    if (this.started || this.closing) return;
    this.started = true;
    // A partition is registered under its queue's name (partitions/registry.ts).
    if (!this.shared) {
      // Opened without `partitions` on a partitioned queue (or on one partition's name), it
      // would wait on keys no producer writes; a refused name is not registered.
      refusePartitioned(this.client, this.prefix, this.name)
        .then(() => this.client.sadd(registryKey(this.prefix), this.name))
        .catch((err) => {
          if (!(err instanceof ValidationError)) return;
          this.fail(err);
          this.close().catch(() => {});
        });
    }
    this.heartbeat.start();
    this.scheduler?.start();
    this.flows.start();
    this.cancels.start((e) => this.fail(e));
    // A manual worker takes jobs only when asked (getNextJob).
    if (this.handler === null) return;
    // The optional OpenTelemetry import settles before the first job runs.
    this.loopDone = loadTracing().then(() => this.loop());
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      if (this.paused) {
        await new Promise<void>((resolve) => {
          this.resumeLoop = resolve;
        });
        continue;
      }
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
        const free = Math.max(0, this.slots - this.running.size);
        const { jobs, nextDue, limited, state } = await this.fetcher.fetch(room, this.buffer.length, free);
        failures = 0;
        this.limited = limited;
        this.queueEmpty = jobs.length === 0;
        const recalled = this.recalled(state, sentAt);
        // First, as it concerns the jobs held before this fetch (and permits this fetch's).
        this.renewed(sentAt, state);
        if (jobs.length > 0 && (recalled || this.paused)) {
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
        // Over REST (polling, each poll a request) the idle wait may grow to 5 s (docs/rest.md).
        const maxBlock = (this.blocking as { pollMaxMs?: number }).pollMaxMs ?? MAX_BLOCK_MS;
        await this.fetcher.waitForWork(nextDue >= 0 ? Math.min(nextDue + 1, maxBlock) : maxBlock);
      } catch (err) {
        if (this.closing) break;
        this.fail(err);
        await new Promise((r) => setTimeout(r, reconnectDelay(failures++)));
      }
    }
  }

  /** Starts reserved jobs while slots are free, if Redis recently said they may start. */
  private pump(): void {
    if (this.buffer.length === 0 || this.running.size >= this.slots || this.closing || this.paused) return;
    if (performance.now() >= this.startUntil) {
      // Ask Redis: a settle about to be sent (a job just ended) will say, else a beat now.
      if (!this.acker.hasUnsent) this.heartbeat.beatNow();
      return;
    }
    const shared = this.shared;
    while (
      this.running.size < this.slots &&
      this.buffer.length > 0 &&
      (!shared || shared.running < shared.limit)
    ) {
      const job = this.buffer.shift()!;
      this.running.set(job.id, job);
      if (shared) shared.running++;
      this.timeouts.watch(job, job.opts.timeout ?? this.jobTimeout, this.isRunning, this.running.size);
      job.startedAt = performance.now();
      if (this.listenerCount('progress') > 0) job.onProgress = (v) => this.notify('progress', job, v);
      if (this.listenerCount('active') > 0) this.notify('active', job);
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
    if (this.shared) this.shared.running--;
    // A cancelled job fails for good, whatever its handler did after the signal fired.
    if (!outcome.ok && outcome.error instanceof CancelledError) outcome.unrecoverable = true;
    else if (job.deferral && outcome.ok)
      outcome = { ok: false, job, error: new JobDeferredError('deferred'), unrecoverable: false };
    const tookMs = performance.now() - job.startedAt;
    endAttempt(job, outcome.ok ? undefined : outcome.error);
    this.avgJobMs = this.avgJobMs === undefined ? tookMs : this.avgJobMs * 0.9 + tookMs * 0.1;
    this.metrics?.attempt(job, tookMs);
    this.acker.push(this.settlement(outcome));
    // Partitions: the freed slot is offered to the partitions in turn, not to this one first.
    if (this.shared) offerSlots(this.shared);
    else this.pump();
    this.maybeDrained();
    this.wakeLoop();
  }

  private settlement(outcome: Outcome): Settlement {
    const opts = outcome.job.opts;
    const deferral = outcome.job.deferral;
    if (deferral && !outcome.ok && !(outcome.error instanceof CancelledError))
      return {
        outcome,
        payload: deferral.kind === 'snooze' ? '' : '!',
        retryDelay: deferral.ms,
        keepAge: 0,
        keepCount: 0,
        deferred: true,
      };
    if (outcome.ok) {
      const [keepAge, keepCount] = retentionArgs(opts.removeOnComplete ?? DEFAULT_KEEP_COMPLETED);
      return { outcome, payload: outcome.resultJson, retryDelay: -1, keepAge, keepCount };
    }
    const [keepAge, keepCount] = retentionArgs(opts.removeOnFail ?? DEFAULT_KEEP_FAILED);
    const attempt = outcome.job.attemptsMade + 1;
    const last = outcome.unrecoverable || attempt >= (opts.attempts ?? 1);
    const retryDelay = last
      ? -1
      : (this.customBackoff(attempt, outcome.error, outcome.job) ?? backoffDelay(opts.backoff, attempt));
    return { outcome, payload: serializeError(outcome.error), retryDelay, keepAge, keepCount };
  }

  /** The worker's backoffStrategy, checked: undefined to use the job's own backoff. */
  private customBackoff(attempt: number, error: Error, job: Job): number | undefined {
    if (!this.backoffStrategy) return undefined;
    try {
      const ms = this.backoffStrategy(attempt, error, job);
      if (ms === undefined) return undefined;
      if (typeof ms === 'number' && Number.isInteger(ms) && ms >= 0 && ms <= MAX_DELAY_MS) return ms;
      throw new ValidationError(
        'backoffStrategy',
        `returned ${String(ms)}, not an integer from 0 to ${MAX_DELAY_MS}`,
      );
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /**
   * Whether the jobs of a fetch sent at `sentAt` whose reply reports `state` must not start:
   * the lease had lapsed before it (or it is a replay from before a recall: fetch.lua then
   * reports lapsed too), or it was in flight when an earlier-handled reply reported a later
   * recall (replies that arrive together may be handled out of order). A fetch sent after
   * that ran after it, whatever it reports: a failover can bring back an older recall time,
   * which must not make every later fetch give its jobs back.
   */
  private recalled(state: number, sentAt: number): boolean {
    if (state & WorkerState.LAPSED) return true;
    return recallTime(state) < this.recallSeen && sentAt < this.recallRoseAt;
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
    // A recall this worker has not seen yet, whichever reply tells it first (worker-lease.lua).
    const recall = recallTime(state);
    const rose = recall > this.recallSeen;
    if (rose) {
      this.recallSeen = recall;
      this.recallRoseAt = performance.now();
    }
    if ((rose || state & (WorkerState.LAPSED | WorkerState.PAUSED)) && this.buffer.length > 0) {
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
      fetched: this.fetcher.applied,
      settled: this.acker.applied,
    };
  }

  private wakeLoop(): void {
    const wake = this.slotFreed;
    this.slotFreed = undefined;
    wake?.();
  }

  private settled(applied: Settlement[], lost: Settlement[], sentAt: number, state: number): void {
    this.renewed(sentAt, state);
    if (this.manual.size > 0) this.manualSettled(applied, lost);
    const final = applied.some((s) => s.deferred) ? applied.filter((s) => !s.deferred) : applied;
    this.metrics?.settled(final);
    this.flows.settled(final);
    for (const { outcome, deferred } of applied) {
      if (deferred) continue;
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
  private notify<K extends keyof WorkerEventsMap<D, R>>(event: K, ...args: unknown[]): void {
    try {
      (this.emit as (e: K, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reports an error without ever crashing the process for want of a listener, or for a listener that throws. */
  private fail(err: unknown): void {
    const clean = redactError(err, [clientPassword(this.client)]);
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
    this.resumeLoop?.();
    const cancelsClosed = this.ownsConnections ? this.cancels.close() : undefined;
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
    if (this.shared) this.shared.running -= this.running.size;
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
    await within(this.flows.stop(), Math.max(1000, left()));
    await within(cancelsClosed, 1000);
    await within(
      this.metrics?.close().catch((e) => this.fail(e)),
      1000,
    );
    if (!this.ownsConnections) return; // its partitioned Worker closes them
    await within(
      this.client.quit().catch(() => {}),
      1000,
    );
    this.client.disconnect();
  }

  /** Acknowledgements manual calls (completeJob, failJob) wait for. */
  private readonly manual = new Map<HeldJob, { resolve: () => void; reject: (e: Error) => void }>();

  /**
   * Manual worker (handler null): takes the next job, or undefined when none waits
   * (within `block` ms, default 0). The job stays leased to this worker (its heartbeat
   * renews it; no attempt timeout) until completeJob or failJob. Undefined too while the
   * queue is paused.
   */
  async getNextJob(opts: { block?: number } = {}): Promise<Job<D> | undefined> {
    if (this.handler !== null)
      throw new ValidationError('handler', 'getNextJob needs a manual worker (handler null)');
    const block = integerOption('block', opts.block, 0, 0, MAX_TIMER_MS);
    if (this.closing) return undefined;
    this.run();
    const deadline = performance.now() + block;
    for (;;) {
      const sentAt = performance.now();
      const { jobs, state, nextDue } = await this.fetcher.fetch(1, 0, 1);
      // As in pump: a job starts only within the start window of its fetch's send (a reply
      // slower than that may predate a pause), and not after a recall or a pause.
      const late = performance.now() >= sentAt + this.startWindow;
      if (jobs.length > 0 && (late || this.recalled(state, sentAt) || state & WorkerState.PAUSED)) {
        await this.release(jobs, 'back');
        if (state & WorkerState.PAUSED || performance.now() >= deadline || this.closing) return undefined;
        continue;
      }
      const job = jobs[0];
      if (job) {
        this.renewed(sentAt, state);
        this.running.set(job.id, job);
        if (this.shared) this.shared.running++;
        job.startedAt = performance.now();
        return job as unknown as Job<D>;
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.closing) return undefined;
      await this.fetcher.waitForWork(Math.min(left, nextDue >= 0 ? nextDue + 1 : left, MAX_BLOCK_MS));
    }
  }

  /** Manual worker: completes a job from getNextJob; resolves once Redis stored the result. */
  completeJob(job: Job<D>, result: R): Promise<void> {
    let resultJson: string;
    try {
      resultJson = JSON.stringify(result === undefined ? null : result);
    } catch (err) {
      return Promise.reject(
        new ValidationError('result', `is not JSON-serialisable: ${(err as Error).message}`),
      );
    }
    return this.settleManual(job, { ok: true, job: job as unknown as HeldJob, result, resultJson });
  }

  /**
   * Manual worker: fails an attempt of a job from getNextJob (retried per its attempts
   * and backoff unless `unrecoverable`); resolves once Redis stored it.
   */
  failJob(job: Job<D>, error: Error, opts: { unrecoverable?: boolean } = {}): Promise<void> {
    if (!(error instanceof Error)) return Promise.reject(new ValidationError('error', 'must be an Error'));
    const held = job as unknown as HeldJob;
    return this.settleManual(job, {
      ok: false,
      job: held,
      error,
      unrecoverable: opts.unrecoverable === true,
    });
  }

  private settleManual(job: Job<D>, outcome: Outcome): Promise<void> {
    const held = job as unknown as HeldJob;
    if (!this.isRunning(held))
      return Promise.reject(new JobStateError(`job ${job.id} is not held by this worker (already settled?)`));
    return new Promise<void>((resolve, reject) => {
      this.manual.set(held, { resolve, reject });
      this.finish(outcome);
    });
  }

  private manualSettled(applied: Settlement[], lost: Settlement[]): void {
    for (const { outcome } of applied) {
      this.manual.get(outcome.job)?.resolve();
      this.manual.delete(outcome.job);
    }
    for (const { outcome } of lost) {
      this.manual.get(outcome.job)?.reject(new JobStateError(`job ${outcome.job.id}: the lease had lapsed`));
      this.manual.delete(outcome.job);
    }
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

// A partitioned worker is a Worker: `instanceof Worker` holds (its own methods shadow every public one).
Object.setPrototypeOf(PartitionedWorker.prototype, Worker.prototype);
