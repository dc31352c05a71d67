import type { Redis } from 'ioredis';
import { callScript } from '../../redis/scripts.js';
import { HopperError, ValidationError } from '../../util/errors.js';
import type { QueueKeys } from '../keys.js';
import type { JobOptions } from '../types.js';
import { gridOf } from './grid.js';
import { type ScheduleKeys, scheduleKeys, scheduleScriptKeys } from './keys.js';
import { firstTick } from './plan.js';
import { parseRun } from './run-state.js';
import type { ScheduleInfo, ScheduleSpec } from './types.js';
import { validateSchedule, validateScheduleId } from './validate.js';

/** schedule-put.lua's answers. */
const CHANGED_SINCE_READ = 0;
const SAME_SPEC = 1;
const MAX_PUT_TRIES = 20;

/** The repeatable jobs of one queue: create, change, remove and list them (Queue delegates here). */
export class Schedules {
  readonly keys: ScheduleKeys;
  private readonly defaults: JobOptions;

  constructor(
    private readonly client: Redis,
    queueKeys: QueueKeys,
    defaults: JobOptions,
    private readonly maxPayloadBytes: number,
  ) {
    this.keys = scheduleKeys(queueKeys);
    // Ids are derived per tick and each tick makes one job: a default jobId or dedup would fight that.
    const { jobId: _j, dedup: _d, ...rest } = defaults;
    this.defaults = rest;
  }

  /**
   * Creates or changes schedule `id`. The same spec again changes nothing (safe to
   * call from every process at start); a different one replaces it from the next
   * tick on. Resolves to the time of the next tick and whether anything changed.
   */
  async put(
    id: unknown,
    repeat: unknown,
    template: unknown,
    options: unknown,
  ): Promise<{ next: number; changed: boolean }> {
    validateScheduleId(id);
    const spec = validateSchedule(repeat, template, options, this.defaults, this.maxPayloadBytes, Date.now());
    const specJson = JSON.stringify(spec);
    const grid = gridOf(spec.repeat, spec.startAt);
    const k = this.keys;
    for (let i = 0; i < MAX_PUT_TRIES; i++) {
      const [now, run, oldNext, oldSpec] = await this.read(id as string);
      if (oldSpec === specJson && oldNext !== undefined) return { next: oldNext, changed: false };
      const first = firstTick(spec, grid, now, oldNext, run === '' ? 0 : parseRun(run).last);
      if (first === null) throw new ValidationError('options.endAt', 'no tick falls before it');
      const r = await callScript<number>(this.client, 'schedule-put', scheduleScriptKeys.put(k), [
        id as string,
        specJson,
        run,
        first,
      ]);
      if (r === SAME_SPEC) return { next: (await this.read(id as string))[2] ?? first, changed: false };
      if (r !== CHANGED_SINCE_READ) return { next: first, changed: true };
    }
    throw new HopperError(`schedule ${id as string} kept changing while being stored; try again`);
  }

  /** Redis time, the runs value, the next tick and the spec of one schedule, read together. */
  private async read(id: string): Promise<[number, string, number | undefined, string | null]> {
    const k = this.keys;
    const r = (await this.client
      .multi()
      .time()
      .hget(k.runs, id)
      .zscore(k.next, id)
      .hget(k.specs, id)
      .exec()) as [Error | null, unknown][];
    for (const [err] of r) if (err) throw err;
    const [sec, micro] = r[0]![1] as [string, string];
    const next = r[2]![1] as string | null;
    return [
      Number(sec) * 1000 + Math.floor(Number(micro) / 1000),
      (r[1]![1] as string | null) ?? '',
      next === null ? undefined : Number(next),
      r[3]![1] as string | null,
    ];
  }

  /** Removes a schedule at once (one MULTI): no tick of it fires after this resolves. False if there was none. */
  async remove(id: unknown): Promise<boolean> {
    validateScheduleId(id);
    const k = this.keys;
    const r = (await this.client
      .multi()
      .zrem(k.next, id as string)
      .hdel(k.runs, id as string)
      .hdel(k.specs, id as string)
      .hdel(k.claims, id as string)
      .exec()) as [Error | null, number][];
    for (const [err] of r) if (err) throw err;
    return r[0]![1] === 1;
  }

  /** Every schedule with its next tick, soonest first. */
  async list<D = unknown>(): Promise<ScheduleInfo<D>[]> {
    const k = this.keys;
    const r = (await this.client
      .multi()
      .zrange(k.next, '0', '-1', 'WITHSCORES')
      .hgetall(k.specs)
      .hgetall(k.runs)
      .exec()) as [Error | null, unknown][];
    for (const [err] of r) if (err) throw err;
    const next = r[0]![1] as string[];
    const specs = r[1]![1] as Record<string, string>;
    const runs = r[2]![1] as Record<string, string>;
    const out: ScheduleInfo<D>[] = [];
    for (let i = 0; i < next.length; i += 2) {
      const id = next[i]!;
      const json = specs[id];
      if (json === undefined) continue;
      const spec = JSON.parse(json) as ScheduleSpec;
      const info: ScheduleInfo<D> = {
        id,
        repeat: spec.repeat,
        template: { name: spec.name, data: spec.data as D, opts: spec.opts },
        catchUp: spec.catchUp,
        made: parseRun(runs[id] ?? '').made,
        next: Number(next[i + 1]),
      };
      if (spec.startAt !== undefined) info.startAt = spec.startAt;
      if (spec.endAt !== undefined) info.endAt = spec.endAt;
      if (spec.limit !== undefined) info.limit = spec.limit;
      out.push(info);
    }
    return out;
  }

  /**
   * Deletes every schedule of the queue (Queue.obliterate). The version counter
   * stays: a version must never be reused, or a scheduler could fire a new schedule
   * with the template it cached for an old one of the same id.
   */
  async clear(): Promise<void> {
    const k = this.keys;
    await this.client.unlink(k.specs, k.next, k.runs, k.claims);
  }
}
