import { type ReadMetricsOptions, readMetricsOf } from '../../metrics/reader.js';
import type { MetricsRecorder } from '../../metrics/recorder.js';
import type { QueueMetrics } from '../../metrics/types.js';
import type { SpooledProducer, SpoolStats } from '../../spool/index.js';
import { ValidationError } from '../../util/errors.js';
import type { PreparedJob } from '../add-batcher.js';
import type { AddOutcomeUnknownError } from '../errors.js';
import type { EventsSettings } from '../events/settings.js';
import type { JobLogs } from '../job-admin.js';
import type { QueueKeys } from '../keys.js';
import type { GroupCounts } from '../limits.js';
import type { Queue } from '../queue.js';
import type { Repeat, ScheduleInfo, ScheduleOptions, ScheduleTemplate } from '../schedule/types.js';
import type { SpooledJobs } from '../spool-target.js';
import type {
  GroupLimits,
  JobCounts,
  JobInfo,
  JobOptions,
  JobState,
  QueueLimits,
  QueueOptions,
} from '../types.js';
import { partitionNames, partitionOfGroup, partitionOfId, validatePartitions } from './layout.js';
import { mergeJobs, splitLimits, sumCounts, sumLimits } from './merge.js';
import { claimPartitions, partitionsKey } from './registry.js';
import { markPartition } from './role.js';

const STATES: JobState[] = ['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children'];
type Internal = 'prepareJob' | 'addPrepared' | 'redis' | 'hasJob';
/** Queue's public surface: TypeScript checks the partitioned queue offers all of it. */
export type QueueSurface<D, R> = Omit<{ [K in keyof Queue<D, R>]: Queue<D, R>[K] }, Internal>;

/**
 * One logical queue over N ordinary queues (its partitions, each with its own hash tag:
 * layout.ts), behind Queue's API: `new Queue(name, { partitions: N })` returns one.
 * Jobs are placed by group, dedup key or jobId (hashed), else in turn; lookups by id go
 * to the partition the id names; counts, lists and metrics are merged (docs/scaling.md).
 */
export class PartitionedQueue<D = unknown, R = unknown> implements QueueSurface<D, R> {
  readonly name: string;
  readonly prefix: string;
  readonly partitions: number;
  /** The partitions' queues, in partition order. */
  readonly parts: Queue<D, R>[];
  private readonly defaults: JobOptions;
  private turn = 0;
  /** The partition count check (registry.ts); made again after obliterate, on next use. */
  private claiming: Promise<void> | undefined;
  private claimed = false;

  constructor(
    name: string,
    options: QueueOptions,
    make: (name: string, options: QueueOptions) => Queue<D, R>,
  ) {
    this.partitions = validatePartitions(options.partitions);
    if (options.spool !== undefined)
      throw new ValidationError(
        'spool',
        'is not supported with partitions (each partition would need its own)',
      );
    this.name = name;
    this.prefix = options.prefix ?? 'hopper';
    this.defaults = options.defaultJobOptions ?? {};
    const names = partitionNames(this.prefix, name, this.partitions);
    this.parts = [];
    try {
      for (let i = 0; i < names.length; i++)
        this.parts.push(
          make(
            names[i]!,
            markPartition({ ...options, partitions: undefined }, { index: i, count: this.partitions }),
          ),
        );
    } catch (err) {
      for (const q of this.parts) q.close().catch(() => {});
      throw err;
    }
    this.ready.catch(() => {}); // reported to every call that awaits it
  }

  private get ready(): Promise<void> {
    this.claiming ??= claimPartitions(this.parts[0]!.redis, this.prefix, this.name, this.partitions).then(
      () => {
        this.claimed = true;
      },
    );
    return this.claiming;
  }

  /** Resolves once the partition count is recorded (or matches); rejects with PartitionCountError if not. */
  waitUntilReady(): Promise<void> {
    return this.ready;
  }

  /** Partition 0's keys (each partition has its own: `parts[i].keys`). */
  get keys(): QueueKeys {
    return this.parts[0]!.keys;
  }

  /** Partition 0's recorder (every partition counts its own adds). */
  get metrics(): MetricsRecorder | undefined {
    return this.parts[0]!.metrics;
  }

  get spool(): SpooledProducer<SpooledJobs> | undefined {
    return undefined;
  }

  spoolStats(): SpoolStats | null {
    return null;
  }

  private placeOf(opts: unknown): number {
    const n = this.partitions;
    if (n === 1) return 0;
    const o = (typeof opts === 'object' && opts !== null ? opts : {}) as JobOptions;
    const group = o.group ?? this.defaults.group;
    if (typeof group === 'string') return partitionOfGroup(group, n);
    const dedupKey = (o.dedup ?? this.defaults.dedup)?.key;
    if (typeof dedupKey === 'string') return partitionOfGroup(`\0dedup\0${dedupKey}`, n);
    const jobId = o.jobId ?? this.defaults.jobId;
    if (typeof jobId === 'string') return partitionOfId(jobId, n);
    this.turn = (this.turn + 1) % n;
    return this.turn;
  }

  /** The partition holding job `id`: the one its id names, else whichever has it (a grouped jobId). */
  private async locate(id: string): Promise<Queue<D, R>> {
    if (!this.claimed) await this.ready;
    if (this.partitions === 1 || typeof id !== 'string' || id === '') return this.parts[0]!;
    const first = partitionOfId(id, this.partitions);
    if (await this.parts[first]!.hasJob(id)) return this.parts[first]!;
    const found = await Promise.all(this.parts.map((q, i) => (i === first ? false : q.hasJob(id))));
    const i = found.indexOf(true);
    return this.parts[i >= 0 ? i : first]!;
  }

  /** The partition's Queue that holds job `id` (the console reads its flow links there). */
  partitionOf(id: string): Promise<Queue<D, R>> {
    return this.locate(id);
  }

  private async all<T>(f: (q: Queue<D, R>, i: number) => Promise<T>): Promise<T[]> {
    if (!this.claimed) await this.ready;
    return Promise.all(this.parts.map(f));
  }

  add(name: string, data: D, opts?: JobOptions): Promise<string> {
    const q = this.parts[this.placeOf(opts)]!;
    if (!this.claimed) return this.ready.then(() => q.add(name, data, opts));
    return q.add(name, data, opts);
  }

  /** Every job is checked before any is written; then one batch per partition. */
  async addBulk(jobs: { name: string; data: D; opts?: JobOptions }[]): Promise<string[]> {
    if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
    const byPart: { at: number[]; jobs: PreparedJob[] }[] = this.parts.map(() => ({ at: [], jobs: [] }));
    jobs.forEach((j, i) => {
      const p = this.placeOf(j?.opts);
      byPart[p]!.at.push(i);
      byPart[p]!.jobs.push(this.parts[p]!.prepareJob(`jobs[${i}].`, j?.name, j?.data, j?.opts));
    });
    if (!this.claimed) await this.ready;
    const ids: string[] = new Array(jobs.length);
    await Promise.all(
      byPart.map(async ({ at, jobs: prepared }, p) => {
        if (prepared.length === 0) return;
        const got = await this.parts[p]!.addPrepared(prepared);
        at.forEach((i, k) => {
          ids[i] = got[k]!;
        });
      }),
    );
    return ids;
  }

  async resolveAdd(err: AddOutcomeUnknownError): Promise<string[] | null> {
    for (const q of this.parts) {
      const ids = await q.resolveAdd(err);
      if (ids) return ids;
    }
    return null;
  }

  /** Schedules live in partition 0, so each tick makes one job (in partition 0). */
  async schedule(id: string, repeat: Repeat, template: ScheduleTemplate<D>, options?: ScheduleOptions) {
    if (!this.claimed) await this.ready;
    return this.parts[0]!.schedule(id, repeat, template, options);
  }

  unschedule(id: string): Promise<boolean> {
    return this.parts[0]!.unschedule(id);
  }

  schedules(): Promise<ScheduleInfo<D>[]> {
    return this.parts[0]!.schedules();
  }

  async getCounts(): Promise<JobCounts> {
    return sumCounts(await this.all((q) => q.getCounts()));
  }

  async getJob(id: string): Promise<JobInfo<D, R> | null> {
    return (await this.locate(id)).getJob(id);
  }

  async hasJob(id: string): Promise<boolean> {
    return (await this.locate(id)).hasJob(id);
  }

  /** Each partition's first `end + 1` jobs of the state, merged (mergeJobs), then the page. */
  async getJobs(state: JobState, start = 0, end = 99): Promise<JobInfo<D, R>[]> {
    if (!STATES.includes(state)) throw new ValidationError('state', `must be one of ${STATES.join(', ')}`);
    if (!Number.isSafeInteger(start) || start < 0)
      throw new ValidationError('start', `must be an integer >= 0, got ${start}`);
    if (!Number.isSafeInteger(end) || end < -1)
      throw new ValidationError('end', `must be an integer >= -1 (-1: to the end), got ${end}`);
    if (end !== -1 && end < start) return [];
    const lists = await this.all((q) => q.getJobs(state, 0, end));
    return mergeJobs(state, lists, start, end);
  }

  async retry(id: string, opts?: { state?: 'failed' | 'completed' }): Promise<void> {
    return (await this.locate(id)).retry(id, opts);
  }

  async updateData(id: string, data: D): Promise<void> {
    return (await this.locate(id)).updateData(id, data);
  }

  async changePriority(id: string, priority: number): Promise<void> {
    return (await this.locate(id)).changePriority(id, priority);
  }

  async changeDelay(id: string, delay: number): Promise<void> {
    return (await this.locate(id)).changeDelay(id, delay);
  }

  async getJobLogs(id: string, start?: number, end?: number, opts?: { asc?: boolean }): Promise<JobLogs> {
    return (await this.locate(id)).getJobLogs(id, start, end, opts);
  }

  async retryAll(): Promise<number> {
    return (await this.all((q) => q.retryAll())).reduce((a, b) => a + b, 0);
  }

  async promote(id: string): Promise<void> {
    return (await this.locate(id)).promote(id);
  }

  async promoteAll(): Promise<number> {
    return (await this.all((q) => q.promoteAll())).reduce((a, b) => a + b, 0);
  }

  /** Partition by partition, until `limit` jobs are deleted in all. */
  async clean(state: 'completed' | 'failed', olderThanMs: number, limit = 1000): Promise<string[]> {
    if (!this.claimed) await this.ready;
    const out: string[] = [];
    for (const q of this.parts) {
      if (out.length >= limit && out.length > 0) break;
      out.push(...(await q.clean(state, olderThanMs, limit - out.length)));
    }
    return out;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.locate(id)).remove(id);
  }

  /** Each partition gets an equal share of concurrency and rate max (merge.ts: splitLimits). */
  async setLimits(limits: QueueLimits): Promise<void> {
    const shares = this.parts.map((_, i) => splitLimits(limits, this.partitions, i));
    await this.all((q, i) => q.setLimits(shares[i]!));
  }

  async getLimits(): Promise<QueueLimits> {
    return sumLimits(await this.all((q) => q.getLimits()));
  }

  private groupPart(group: string): Queue<D, R> {
    return this.parts[typeof group === 'string' ? partitionOfGroup(group, this.partitions) : 0]!;
  }

  setGroupLimits(group: string, limits: GroupLimits | null): Promise<void> {
    return this.groupPart(group).setGroupLimits(group, limits);
  }

  pauseGroup(group: string): Promise<void> {
    return this.groupPart(group).pauseGroup(group);
  }

  resumeGroup(group: string): Promise<void> {
    return this.groupPart(group).resumeGroup(group);
  }

  getGroup(group: string): Promise<GroupCounts> {
    return this.groupPart(group).getGroup(group);
  }

  async pause(): Promise<void> {
    await this.all((q) => q.pause());
  }

  async resume(): Promise<void> {
    await this.all((q) => q.resume());
  }

  /** Paused when every partition is (pause() and resume() act on all of them). */
  async isPaused(): Promise<boolean> {
    return (await this.all((q) => q.isPaused())).every(Boolean);
  }

  async drain(): Promise<number> {
    return (await this.all((q) => q.drain())).reduce((a, b) => a + b, 0);
  }

  /** Deletes every partition and the recorded count: the name may then be opened with another. */
  async obliterate(opts?: { force?: boolean }): Promise<void> {
    if (!this.claimed) await this.ready;
    if (!opts?.force) {
      const counts = await this.all((q) => q.getCounts());
      const busy = this.parts.find((_, i) => counts[i]!.active + counts[i]!.reserved > 0);
      if (busy) await busy.obliterate(opts); // throws its JobStateError, nothing deleted
    }
    await this.all((q) => q.obliterate({ force: true }));
    const client = this.parts[0]!.redis;
    await client.hdel(partitionsKey(this.prefix), this.name);
    await client.srem(`${this.prefix}:queues`, this.name);
    this.claimed = false;
    this.claiming = undefined;
  }

  async cancel(id: string, reason?: string): Promise<boolean> {
    return (await this.locate(id)).cancel(id, reason);
  }

  async setEvents(settings: EventsSettings): Promise<void> {
    await this.all((q) => q.setEvents(settings));
  }

  getEvents(): Promise<EventsSettings> {
    return this.parts[0]!.getEvents();
  }

  /** Summed over the partitions: counters and histograms add up (readMetricsOf). */
  getMetrics(opts?: ReadMetricsOptions): Promise<QueueMetrics> {
    return readMetricsOf(
      this.parts.map((q) => ({ client: q.redis, tag: q.keys.tag })),
      this.name,
      opts,
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((q) => q.close()));
  }
}
