import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { type Delivery, deliver, parseEntry } from '../flow/deliver.js';
import { showLogicalNames } from '../flow/names.js';
import { removeFlowAware } from '../flow/remove.js';
import { flowScripts } from '../flow/scripts.js';
import { metricsOption } from '../metrics/options.js';
import { type ReadMetricsOptions, readMetrics } from '../metrics/reader.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import type { QueueMetrics } from '../metrics/types.js';
import { createClient } from '../redis/connection.js';
import { scanKeys, unlinkKeys } from '../redis/scan.js';
import { callScript, defineScripts } from '../redis/scripts.js';
import { SpooledProducer, type SpoolStats, validateSpoolOptions } from '../spool/index.js';
import { SpoolReporter, spoolReportsKey } from '../spool/report.js';
import { activeCarrier, loadTracing, tracingPending } from '../tracing/index.js';
import { JobStateError, ValidationError } from '../util/errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { AddBatcher, type PreparedJob } from './add-batcher.js';
import { AddOutcomeUnknownError, QueueClosedError } from './errors.js';
import { type EventsSettings, readEventsSettings, writeEventsSettings } from './events/settings.js';
import * as jobAdmin from './job-admin.js';
import { addRequestKey, type QueueKeys, queueKeys, registryKey } from './keys.js';
import { configureGroup, type GroupCounts, readGroup, readLimits, writeLimits } from './limits.js';
import { PartitionedQueue } from './partitions/queue.js';
import { refusePartitioned } from './partitions/registry.js';
import { isPartition, markPartition, partitionRole } from './partitions/role.js';
import { cleanFinished, promoteAllJobs, promoteJob } from './promote-clean.js';
import { readJob } from './read-job.js';
import { encodeRecord, SEP } from './record.js';
import { Schedules } from './schedule/schedules.js';
import type { Repeat, ScheduleInfo, ScheduleOptions, ScheduleTemplate } from './schedule/types.js';
import { scriptKeys } from './script-keys.js';
import { queueScripts } from './scripts.js';
import { warnAboutServer } from './server-warnings.js';
import { queueSpoolTarget, type SpooledJobs } from './spool-target.js';
import { START_WINDOW_MS } from './start-window.js';
import type {
  GroupLimits,
  JobCounts,
  JobInfo,
  JobOptions,
  JobState,
  QueueLimits,
  QueueOptions,
} from './types.js';
import {
  serializeData,
  validateJobOptions,
  validateName,
  validateQueueName,
  validateQueueOptions,
} from './validate.js';
import { cancelChannel } from './worker/cancel.js';

/** How long resolveAdd's fence keeps a late copy of an abandoned batch from being applied. */
const FENCE_MS = 10 * 60_000;
const closedError = () =>
  new QueueClosedError('queue is closed: close() was called before this add; nothing was written');

/** Beyond START_WINDOW_MS: timers may fire a little early relative to a worker's clock. */
const PAUSE_MARGIN_MS = 20;
const DEDUP_MODE = { throttle: 't', debounce: 'd', 'until-done': 'u' } as const;
const STATES: JobState[] = ['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children'];

/** Adding and managing the jobs of one queue. Workers run them: see Worker. */
export class Queue<D = unknown, R = unknown> {
  // Fields marked `!` are set by the constructor, except when it returns a PartitionedQueue instead.
  readonly name: string;
  readonly keys!: QueueKeys;
  readonly prefix!: string;
  private readonly client!: Redis;
  private readonly batcher!: AddBatcher;
  /** The one check that the name is not a partitioned queue's (see unpartitioned). */
  private plainCheck: Promise<void> | undefined;
  private plainChecked = false;
  private readonly maxPayloadBytes!: number;
  private readonly defaults!: JobOptions;
  private readonly defaultsJson!: string;
  private readonly hasDefaults!: boolean;
  private readonly logger!: Logger;
  /** Counts added jobs; undefined with `metrics: false`. Other parts (the server) may count into it too. */
  readonly metrics: MetricsRecorder | undefined;
  private registered = false;
  private closing = false;
  /**
   * With the `spool` option: where adds go while Redis does not answer (see docs/spool.md).
   * An EventEmitter: `spooling`, `replayed`, `drained`, `corrupt`.
   */
  readonly spool: SpooledProducer<SpooledJobs> | undefined;
  private spooledIds = 0;
  /** Publishes the spool's depth and age to Redis while it holds records (docs/spool.md). */
  private spoolReporter: SpoolReporter | undefined;
  private readonly scheduling!: Schedules;

  constructor(name: string, options: QueueOptions = {}) {
    this.name = validateQueueName(name);
    const checked = validateQueueOptions(options);
    // `partitions`: one logical queue over N ordinary ones (src/queue/partitions).
    if (options.partitions !== undefined && !isPartition(options))
      // biome-ignore lint/correctness/noConstructorReturn: the partitioned queue stands in for this one
      return new PartitionedQueue<D, R>(name, options, (n, o) => new Queue<D, R>(n, o)) as unknown as Queue<
        D,
        R
      >;
    const role = partitionRole(options);
    if (role) markPartition(this, role);
    const spool = options.spool === undefined ? undefined : validateSpoolOptions('spool', options.spool);
    this.prefix = checked.prefix;
    this.keys = queueKeys(this.prefix, name);
    this.maxPayloadBytes = checked.maxPayloadBytes;
    this.defaults = validateJobOptions('defaultJobOptions', options.defaultJobOptions);
    this.defaultsJson = JSON.stringify(this.defaults);
    this.hasDefaults = Object.keys(this.defaults).length > 0;
    this.logger = options.logger ?? defaultLogger('hopper:queue');
    const metrics = metricsOption(options.metrics);
    this.client = createClient(options.connection, 'producer');
    this.client.on('error', () => {}); // reconnects on its own; failed commands reject to the caller
    defineScripts(this.client, queueScripts);
    defineScripts(this.client, flowScripts); // remove and drain are flow-aware
    warnAboutServer(this.client, this.logger);
    this.metrics =
      metrics &&
      new MetricsRecorder(this.client, this.keys.tag, metrics, (e) =>
        this.logger.warn({ queue: name, err: (e as Error).message }, 'metrics flush failed'),
      );
    this.batcher = new AddBatcher(
      this.client,
      this.keys,
      this.metrics && ((n) => this.metrics!.count('added', n)),
      checked.addTimeout,
      undefined,
      checked.durability,
      role && { step: role.count, offset: role.index },
    );
    this.scheduling = new Schedules(this.client, this.keys, this.defaults, this.maxPayloadBytes);
    if (spool) {
      const target = queueSpoolTarget(
        this.client,
        this.keys,
        this.metrics && ((n) => this.metrics!.count('added', n)),
      );
      try {
        this.spool = new SpooledProducer(spool, target, this.logger);
        this.spoolReporter = new SpoolReporter(
          this.client,
          spoolReportsKey(this.keys.tag),
          this.spool,
          spool.dir,
        );
      } catch (err) {
        this.client.disconnect();
        throw err;
      }
    }
    loadTracing();
  }

  /**
   * Creates or changes repeatable job `id`: every tick of `repeat` makes one job from
   * `template`, however many workers run (see docs/scheduling.md). The same spec
   * again changes nothing. Resolves to the next tick's time and whether anything changed.
   */
  async schedule(
    id: string,
    repeat: Repeat,
    template: ScheduleTemplate<D>,
    options?: ScheduleOptions,
  ): Promise<{ next: number; changed: boolean }> {
    const r = await this.scheduling.put(id, repeat, template, options);
    this.register();
    return r;
  }

  /** Removes repeatable job `id` at once; false if there was none. Jobs it already made stay. */
  unschedule(id: string): Promise<boolean> {
    return this.scheduling.remove(id);
  }

  /** The queue's repeatable jobs with their next tick, soonest first. */
  schedules(): Promise<ScheduleInfo<D>[]> {
    return this.scheduling.list<D>();
  }

  /**
   * Adds one job; resolves to its id (for a duplicate, the id of the job already there)
   * once Redis stored it. If Redis does not confirm within `addTimeout`, rejects with
   * AddOutcomeUnknownError (see resolveAdd).
   */
  add(name: string, data: D, opts?: JobOptions): Promise<string> {
    if (this.closing) return Promise.reject(closedError());
    // The first adds wait for the optional OpenTelemetry import (the active context follows them).
    const tracing = tracingPending();
    if (tracing) return tracing.then(() => this.addNow(name, data, opts));
    return this.addNow(name, data, opts);
  }

  private addNow(name: string, data: D, opts?: JobOptions): Promise<string> {
    let job: PreparedJob;
    try {
      job = this.prepare('', name, data, opts);
    } catch (err) {
      return Promise.reject(err);
    }
    this.register();
    if (this.spool) {
      const generated = job.id === '';
      if (generated) job.id = this.spoolId();
      return this.spool.submitOne([{ job, generated }], job.id);
    }
    const check = this.unpartitioned();
    return check ? check.then(() => this.batcher.addOne(job)) : this.batcher.addOne(job);
  }

  /** Gives generated ids to jobs without a jobId (so a spooled job has its id at once) and submits them. */
  private spoolAdd(jobs: PreparedJob[]): Promise<string[]> {
    const value: SpooledJobs = jobs.map((job) => {
      if (job.id !== '') return { job, generated: false };
      return { job: { ...job, id: this.spoolId() }, generated: true };
    });
    return this.spool!.submit(
      value,
      value.map((v) => v.job.id),
      value.length,
    );
  }

  /** A generated id of a spooled queue: `<run>-<n>` (n in base 36), made before the job is sent. */
  private spoolId(): string {
    return `${this.spool!.run}-${(++this.spooledIds).toString(36)}`;
  }

  /** The spool's depth, bytes, oldest record's age and state; null without the `spool` option. */
  spoolStats(): SpoolStats | null {
    return this.spool?.stats() ?? null;
  }

  /** Adds many jobs in few round trips: chunks of 1,000, each chunk atomic. All are validated before any is written. */
  async addBulk(jobs: { name: string; data: D; opts?: JobOptions }[]): Promise<string[]> {
    if (this.closing) throw closedError();
    if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
    const tracing = tracingPending();
    if (tracing) await tracing;
    const prepared = jobs.map((j, i) => this.prepare(`jobs[${i}].`, j?.name, j?.data, j?.opts));
    return this.addPrepared(prepared);
  }

  /** @internal Validates one job (field names start with `at`); a partitioned queue checks every job before it writes any. */
  prepareJob(at: string, name: unknown, data: unknown, opts: unknown): PreparedJob {
    return this.prepare(at, name, data, opts);
  }

  /** @internal Adds jobs prepareJob checked: chunks of 1,000, each chunk atomic. */
  async addPrepared(prepared: PreparedJob[]): Promise<string[]> {
    if (!this.spool) await this.unpartitioned();
    const chunks: Promise<string[]>[] = [];
    for (let i = 0; i < prepared.length; i += 1000) {
      const chunk = prepared.slice(i, i + 1000);
      chunks.push(this.spool ? this.spoolAdd(chunk) : this.batcher.add(chunk));
    }
    const ids = (await Promise.all(chunks)).flat();
    this.register();
    return ids;
  }

  /** Resolves at once for a plain queue; a partitioned one rejects with PartitionCountError on a count mismatch. */
  waitUntilReady(): Promise<void> {
    return Promise.resolve();
  }

  /** @internal The queue's command connection (a partitioned queue reads its registry with it). */
  get redis(): Redis {
    return this.client;
  }

  /** @internal Whether a job record with this id is here (a partitioned queue finds a job's partition). */
  async hasJob(id: string): Promise<boolean> {
    return (await this.client.hexists(this.keys.jobs, id)) === 1;
  }

  /**
   * Settles an add that rejected with AddOutcomeUnknownError: resolves to the ids the
   * call's jobs got if its batch was stored, or null if it was not, after making sure it
   * never will be (a copy of the batch still on its way is fenced off). Call it within
   * a minute of the error: the batch's reply is kept `addTimeout` plus a minute.
   */
  async resolveAdd(err: AddOutcomeUnknownError): Promise<string[] | null> {
    if (!(err instanceof AddOutcomeUnknownError))
      throw new ValidationError('err', 'must be an AddOutcomeUnknownError from this queue');
    const keys = scriptKeys(this.keys, addRequestKey(this.keys, err.requestId));
    const reply = await callScript<[number, ...string[]] | null>(this.client, 'add-outcome', keys, [
      FENCE_MS,
    ]);
    return reply ? err.pick(reply) : null;
  }

  private prepare(at: string, name: unknown, data: unknown, opts: unknown): PreparedJob {
    validateName(`${at}name`, name);
    const o = validateJobOptions(`${at}opts`, opts);
    const dataJson = serializeData(`${at}data`, data, this.maxPayloadBytes);
    let merged = opts === undefined ? this.defaults : this.hasDefaults ? { ...this.defaults, ...o } : o;
    // A context given in opts.trace is relayed as is; otherwise the active span's, if any.
    const trace = merged.trace ? undefined : activeCarrier();
    if (trace) merged = { ...merged, trace };
    const optsJson = opts === undefined && !trace ? this.defaultsJson : JSON.stringify(merged);
    const dedup = merged.dedup;
    return {
      id: merged.jobId ?? '',
      record: encodeRecord(name as string, Date.now(), optsJson, dataJson),
      priority: merged.priority ?? 0,
      delay: dedup?.mode === 'debounce' ? dedup.ttl! : (merged.delay ?? 0),
      group: merged.group ?? '',
      dedupMode: dedup ? DEDUP_MODE[dedup.mode ?? 'throttle'] : '',
      dedupKey: !dedup ? '' : dedup.mode === 'until-done' ? dedup.key : `${this.keys.dedup}:${dedup.key}`,
      dedupTtl: dedup?.ttl ?? 0,
    };
  }

  /**
   * Before the first add, refuses a name recorded as partitioned (PartitionCountError): opened
   * without `partitions`, its jobs would go to keys no worker reads. One HGET per Queue; when
   * Redis does not answer, the adds go on (their own resends apply) and the next add checks.
   */
  private unpartitioned(): Promise<void> | undefined {
    if (this.plainChecked || isPartition(this)) return undefined;
    this.plainCheck ??= refusePartitioned(this.client, this.prefix, this.name).then(
      () => {
        this.plainChecked = true;
      },
      (err) => {
        this.plainCheck = undefined;
        if (err instanceof ValidationError) throw err;
      },
    );
    return this.plainCheck;
  }

  /** Records the queue name once, so `hopper stats` can list queues without KEYS. */
  private register(): void {
    if (this.registered) return;
    // A partition is registered under its queue's name, with its count (partitions/registry.ts).
    if (isPartition(this)) {
      this.registered = true;
      return;
    }
    this.registered = true;
    // After the check: a refused name (a partitioned queue's, or one partition's) is not listed.
    (this.unpartitioned() ?? Promise.resolve())
      .then(() => this.client.sadd(registryKey(this.prefix), this.name))
      .catch(() => {
        this.registered = false;
      });
  }

  async getCounts(): Promise<JobCounts> {
    const k = this.keys;
    const r = (await this.client
      .multi()
      .llen(k.wait)
      .zcard(k.waitp)
      .zcard(k.delayed)
      .hlen(k.active)
      .zcard(k.completed)
      .zcard(k.failed)
      .zcard(k.gwait)
      .hlen(k.gnext)
      .hvals(k.reserved)
      .hlen(k.fdeps)
      .exec()) as [Error | null, number][];
    const n = r.map(([err, v]) => {
      if (err) throw err;
      return v;
    });
    // `active` holds every job a worker took; the ones it has not started are reserved.
    const held = r[8]![1] as unknown as string[];
    const reserved = Math.min(
      n[3]!,
      held.reduce((sum, v) => sum + Number(v), 0),
    );
    return {
      waiting: n[0]! + n[1]! + n[6]! + n[7]!,
      delayed: n[2]!,
      active: n[3]! - reserved,
      reserved,
      completed: n[4]!,
      failed: n[5]!,
      waitingChildren: n[9]!,
    };
  }

  async getJob(id: string): Promise<JobInfo<D, R> | null> {
    const info = await readJob<D, R>(this.client, this.keys, id);
    // A flow link or a ChildFailedError naming a partition (`q#k`) says `q` (src/flow/names.ts).
    if (info) await showLogicalNames(this.client, this.prefix, info);
    return info;
  }

  /**
   * Jobs in one state, `start` to `end` inclusive (`end` -1: to the end): waiting in the
   * order they will run, finished newest retention first.
   */
  async getJobs(state: JobState, start = 0, end = 99): Promise<JobInfo<D, R>[]> {
    if (!STATES.includes(state)) throw new ValidationError('state', `must be one of ${STATES.join(', ')}`);
    if (!Number.isSafeInteger(start) || start < 0)
      throw new ValidationError('start', `must be an integer >= 0, got ${start}`);
    if (!Number.isSafeInteger(end) || end < -1)
      throw new ValidationError('end', `must be an integer >= -1 (-1: to the end), got ${end}`);
    const ids = end !== -1 && end < start ? [] : await this.idsIn(state, start, end);
    const jobs = await Promise.all(ids.map((id) => this.getJob(id)));
    return jobs.filter((j): j is JobInfo<D, R> => j !== null);
  }

  /** `end` is -1 (to the end) or >= start. */
  private async idsIn(state: JobState, start: number, end: number): Promise<string[]> {
    const k = this.keys;
    const all = end === -1;
    switch (state) {
      case 'waiting': {
        const prioritized = await this.client.zrange(k.waitp, String(start), String(end));
        const count = all ? Number.POSITIVE_INFINITY : end - start + 1 - prioritized.length;
        if (count <= 0) return prioritized;
        const from = Math.max(0, start - (await this.client.zcard(k.waitp)));
        // The list is LPUSHed and RPOPed: its oldest job is at the right end.
        const fifo = (await this.client.lrange(k.wait, all ? 0 : -(from + count), -(from + 1))).reverse();
        const rest = count - fifo.length;
        if (rest <= 0) return [...prioritized, ...fifo];
        // Grouped jobs last, by group: their real order depends on the groups' turns.
        // Prioritized ones (gwait) first, then the groups' lines (list-grouped.lua).
        const skip = Math.max(0, from - (await this.client.llen(k.wait)));
        const members = await this.client.zrange(k.gwait, String(skip), String(all ? -1 : skip + rest - 1));
        const prioritizedGrouped = members.map((m) => m.slice(m.lastIndexOf('\0') + 1));
        const inLines = rest - prioritizedGrouped.length;
        if (inLines <= 0) return [...prioritized, ...fifo, ...prioritizedGrouped];
        const lineSkip = Math.max(0, skip - (await this.client.zcard(k.gwait)));
        const lines = await callScript<string[]>(this.client, 'list-grouped', scriptKeys(k), [
          lineSkip,
          all ? Number.MAX_SAFE_INTEGER : inLines,
        ]);
        return [...prioritized, ...fifo, ...prioritizedGrouped, ...lines];
      }
      case 'delayed':
        return this.client.zrange(k.delayed, String(start), String(end));
      case 'active':
        return (await this.client.hkeys(k.active)).slice(start, all ? undefined : end + 1);
      case 'waiting-children': // flow parents, in no particular order (docs/flows.md)
        return (await this.client.hkeys(k.fdeps)).slice(start, all ? undefined : end + 1);
      default:
        return this.client.zrevrange(state === 'completed' ? k.completed : k.failed, start, end);
    }
  }

  /**
   * Moves one failed job back to waiting with a fresh attempt count (`{ state: 'completed' }`:
   * a completed job, its result dropped). A job added with dedup mode until-done takes its
   * key again; if another live job holds the key now, the retry is refused (JobStateError)
   * and the job stays where it was.
   */
  async retry(id: string, opts: { state?: 'failed' | 'completed' } = {}): Promise<void> {
    const state = opts.state ?? 'failed';
    if (state !== 'failed' && state !== 'completed')
      throw new ValidationError('opts.state', `must be 'failed' or 'completed', got ${String(state)}`);
    const [moved, refused] = await this.retryScript([state === 'completed' ? 'completed' : 'ids', id]);
    if (refused.length > 0)
      throw new JobStateError(
        `job ${id} was not retried: its until-done key ${JSON.stringify(refused[1])} is held by live job ${refused[2]}`,
      );
    if (moved === 0) throw new JobStateError(`job ${id} is not in the ${state} set`);
  }

  /** Replaces a job's data, in any state (a running handler keeps what it got; later attempts see the new data). */
  updateData(id: string, data: D): Promise<void> {
    return jobAdmin.updateData(this.client, this.keys, id, data, this.maxPayloadBytes);
  }

  /** A waiting or delayed job's new priority (0..1000, higher first); a waiting one goes behind its new peers. */
  changePriority(id: string, priority: number): Promise<void> {
    return jobAdmin.changePriority(this.client, this.keys, id, priority);
  }

  /** A delayed job becomes due `delay` ms from now. */
  changeDelay(id: string, delay: number): Promise<void> {
    return jobAdmin.changeDelay(this.client, this.keys, id, delay);
  }

  /** A page of a job's log lines (`asc: false`: newest first) and how many are kept. */
  getJobLogs(id: string, start = 0, end = -1, opts: { asc?: boolean } = {}): Promise<jobAdmin.JobLogs> {
    return jobAdmin.getJobLogs(this.client, this.keys, id, start, end, opts);
  }

  /**
   * Redrives every failed job (the dead-letter set) back to waiting; returns how many.
   * Jobs whose until-done key another live job holds stay failed (see retry).
   */
  async retryAll(): Promise<number> {
    let total = 0;
    let skip = 0;
    for (;;) {
      const [moved, refused] = await this.retryScript(['all', 1000, skip]);
      total += moved;
      skip += refused.length / 3;
      if (moved === 0 && refused.length === 0) return total;
    }
  }

  private retryScript(args: (string | number)[]): Promise<[number, string[]]> {
    return callScript<[number, string[]]>(this.client, 'retry-failed', scriptKeys(this.keys), args);
  }

  /**
   * Lets delayed job `id` run now, as if its delay had run out (it goes in line behind
   * the jobs already waiting). JobStateError when it is not delayed or does not exist.
   */
  promote(id: string): Promise<void> {
    return promoteJob(this.client, this.keys, id);
  }

  /** Lets every delayed job run now, in due order; returns how many were promoted. */
  promoteAll(): Promise<number> {
    return promoteAllJobs(this.client, this.keys);
  }

  /**
   * Deletes up to `limit` completed or failed jobs that finished at least `olderThanMs`
   * ago (Redis clock), soonest to expire first; returns their ids. Each script call
   * looks at 1,000 jobs at most, so Redis is never blocked long.
   */
  clean(state: 'completed' | 'failed', olderThanMs: number, limit = 1000): Promise<string[]> {
    return cleanFinished(this.client, this.keys, state, olderThanMs, limit);
  }

  /**
   * Deletes a job that is not active. Resolves false when there was no such job. Flow
   * jobs: a parent's children (in any queue, and theirs) are removed with it, except
   * active ones, which finish unlinked; a removed child's parent stops waiting for it
   * and runs if it was the last one pending (docs/flows.md).
   */
  async remove(id: string): Promise<boolean> {
    // Flow-aware (docs/flows.md): a parent's children go with it, a child's parent stops waiting for it.
    const r = await removeFlowAware(this.client, this.prefix, this.name, id, (q) =>
      q === this.name ? this.keys : queueKeys(this.prefix, q),
    );
    if (r === -1) throw new JobStateError(`job ${id} is active: a worker holds it`);
    return r === 1;
  }

  /**
   * Sets limits that hold across every worker of the queue: jobs running at once,
   * jobs started per window, and defaults for each group. Left-out fields keep
   * their value; `null` removes one. Jobs held back by a limit stay waiting.
   */
  setLimits(limits: QueueLimits): Promise<void> {
    return writeLimits(this.client, this.keys, limits);
  }

  getLimits(): Promise<QueueLimits> {
    return readLimits(this.client, this.keys);
  }

  /** Gives one group its own limits (unset fields: the queue's group defaults); `null` removes them. */
  async setGroupLimits(group: string, limits: GroupLimits | null): Promise<void> {
    await configureGroup(this.client, this.keys, group, 'limit', limits);
  }

  /**
   * Workers start no job of this group until resumeGroup: once this resolves none starts
   * (running ones finish; jobs workers had reserved go back in line). It waits as pause()
   * does, when a worker holds a lease: a worker learns of it from its next reply.
   */
  async pauseGroup(group: string): Promise<void> {
    if ((await configureGroup(this.client, this.keys, group, 'pause')) > 0)
      await sleep(START_WINDOW_MS + PAUSE_MARGIN_MS);
  }

  async resumeGroup(group: string): Promise<void> {
    await configureGroup(this.client, this.keys, group, 'resume');
  }

  /** Waiting and active jobs of one group, whether it is paused, and its own limits. */
  getGroup(group: string): Promise<GroupCounts> {
    return readGroup(this.client, this.keys, group);
  }

  /**
   * Workers stop taking jobs from this queue: once this resolves no job starts until
   * resume() (running ones finish; jobs workers had reserved go back in line). It waits
   * START_WINDOW_MS after setting the flag, the longest a worker may go on starting jobs
   * on the word of a reply from before the pause; no wait when no worker holds a lease.
   */
  async pause(): Promise<void> {
    const replies = (await this.client
      .multi()
      .zcard(this.keys.workers)
      .hset(this.keys.meta, 'paused', '1')
      .exec()) as [Error | null, number][];
    for (const [err] of replies) if (err) throw err;
    if (replies[0]![1] > 0) await sleep(START_WINDOW_MS + PAUSE_MARGIN_MS);
  }

  async resume(): Promise<void> {
    await this.client
      .multi()
      .hdel(this.keys.meta, 'paused')
      .lpush(this.keys.signal, '1', '1', '1', '1', '1', '1', '1', '1') // wake up to 8 idle workers
      .ltrim(this.keys.signal, 0, 7)
      .exec();
  }

  async isPaused(): Promise<boolean> {
    return (await this.client.hexists(this.keys.meta, 'paused')) === 1;
  }

  /**
   * Deletes waiting and delayed jobs; active and finished ones stay. Returns how many
   * were deleted. Parents waiting for children are not in line and stay; drained flow
   * children count as removed for their parents, which stop waiting for them (and run
   * when nothing else is pending), as with remove().
   */
  async drain(): Promise<number> {
    const keys = scriptKeys(this.keys);
    let total = 0;
    for (;;) {
      const [n, ...outcomes] = await callScript<[number, ...string[]]>(this.client, 'drain', keys, [5000]);
      total += n;
      if (outcomes.length > 0) await this.deliverRemovals(outcomes);
      if (n === 0) return total;
    }
  }

  /** Tells the parents of drained flow children (id, outbox entry pairs); the recovery sweep retries what fails. */
  private async deliverRemovals(pairs: string[]): Promise<void> {
    const list: Delivery[] = [];
    for (let i = 0; i < pairs.length; i += 2) {
      const d = parseEntry(this.name, pairs[i]!, pairs[i + 1]!);
      if (d) list.push(d);
    }
    await deliver(this.client, this.prefix, list).catch((err: unknown) =>
      this.logger.warn(
        { queue: this.name, err: (err as Error).message },
        'drain: telling flow parents failed; a worker of this queue delivers it later',
      ),
    );
  }

  /**
   * Deletes the whole queue, its metrics included. Refuses while jobs are active unless
   * `force`. Workers still running may write metrics again when they next flush.
   */
  async obliterate(opts: { force?: boolean } = {}): Promise<void> {
    const k = this.keys;
    if (!opts.force && (await this.client.hlen(k.active)) > 0) {
      throw new JobStateError(`queue ${this.name} has active jobs: pass { force: true } to delete it anyway`);
    }
    // What this process counted goes first, so no flush brings metric keys back afterwards.
    await this.metrics?.flush().catch(() => {});
    const { dedup: _d, tag: _t, ...fixed } = k;
    await this.client.unlink(...Object.values(fixed));
    // Dedup keys (one per key) and metric keys (one per minute and day): found by SCAN on
    // our own tag (glob characters escaped), never KEYS.
    const literal = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');
    for (const pattern of [
      `${literal(k.dedup)}:*`,
      `${literal(k.tag)}:metrics:*`,
      `${literal(k.tag)}:req:*`,
      `${literal(k.tag)}:kids:*`,
    ]) {
      await scanKeys(this.client, pattern, (found) => unlinkKeys(this.client, found).then(() => {}));
    }
    await this.scheduling.clear();
    if (!isPartition(this)) await this.client.srem(registryKey(this.prefix), this.name);
    this.registered = false;
  }

  /**
   * Cancels a running job from any process: the worker running it aborts its `signal`
   * with a CancelledError and fails it for good. Resolves true when a worker heard it,
   * false when none did (its subscriber connection was down); JobStateError when the
   * job is not active (remove() deletes a waiting one).
   */
  async cancel(id: string, reason = 'cancelled'): Promise<boolean> {
    if (typeof id !== 'string' || id === '') throw new ValidationError('id', 'must be a non-empty string');
    if (typeof reason !== 'string' || reason.length > 1000 || reason.includes(SEP))
      throw new ValidationError('reason', 'must be a string of at most 1000 characters');
    const r = await callScript<number>(this.client, 'cancel-job', scriptKeys(this.keys), [
      id,
      cancelChannel(this.keys),
      reason,
    ]);
    if (r === -1) throw new JobStateError(`job ${id} is not active: only a running job can be cancelled`);
    return r > 0;
  }

  /**
   * Job events (QueueEvents): the stream keeps `maxLen` entries (default 10,000);
   * `{ maxLen: 0 }` turns events off and deletes the stream. Holds for every process.
   */
  setEvents(settings: EventsSettings): Promise<void> {
    return writeEventsSettings(this.client, this.keys, settings);
  }

  getEvents(): Promise<EventsSettings> {
    return readEventsSettings(this.client, this.keys);
  }

  /** Counts, execution and wait time percentiles and recent failures over the last `days` days (or `minutes`). */
  getMetrics(opts?: ReadMetricsOptions): Promise<QueueMetrics> {
    return readMetrics(this.client, this.keys.tag, this.name, opts);
  }

  /**
   * Closes the connection after every add made before close() was called is stored
   * or refused (a pending batch is sent at once, in-flight ones are awaited, within
   * their addTimeout). Adds made after close() reject with QueueClosedError.
   */
  async close(): Promise<void> {
    this.closing = true;
    // Adds made before close() may still wait for the tracing import, then batch.
    await tracingPending();
    await this.batcher.drain();
    this.spoolReporter?.stop();
    await this.spool?.close();
    await this.metrics?.close().catch(() => {});
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

// A partitioned queue is a Queue: `instanceof Queue` holds (its own methods shadow every one of Queue's).
Object.setPrototypeOf(PartitionedQueue.prototype, Queue.prototype);
