import type { Redis } from 'ioredis';
import { reconnectDelay } from '../../redis/connection.js';
import { callScript } from '../../redis/scripts.js';
import type { QueueKeys } from '../keys.js';
import { type CompiledSchedule, compileSchedule, tickJobId, tickRecord } from './compiled.js';
import { type ScheduleKeys, scheduleKeys, scheduleScriptKeys } from './keys.js';
import { planTick } from './plan.js';
import { formatRun, parseRun } from './run-state.js';

/** Longest sleep between looks, so a new schedule is seen within it. */
const MAX_IDLE_MS = 1000;
/** Due schedules read and fired per round trip. */
const BATCH = 1000;
/**
 * Random extra sleep before a due tick: schedulers in several processes then rarely
 * wake at the same moment, so one claims the tick and the others find it claimed.
 */
const JITTER_MS = 10;
/**
 * How long a read claims its schedules for this scheduler (schedule-due.lua). Far
 * longer than a round takes; a scheduler that dies holding claims delays those
 * ticks this long, well within MISFIRE_MS, so they still run.
 */
const CLAIM_MS = 2000;
/** Pause after a round that could fire nothing it read, so a stuck schedule cannot spin the loop. */
const NOTHING_FIRED_PAUSE_MS = 50;
const MAX_CACHED = 100_000;

/** A due schedule as read: its id, the tick due and its runs value (the compare-and-set token). */
export interface DueItem {
  id: string;
  tick: number;
  run: string;
}

export interface DueBatch {
  /** Redis time of the read. */
  now: number;
  /** Ms until there is something to look at again (a tick not yet due, or a claim of another scheduler ending), -1 if nothing is scheduled. */
  nextIn: number;
  items: DueItem[];
}

export interface SchedulerRound {
  /** Due schedules read. */
  due: number;
  /** Schedules this round advanced (the others were fired by another scheduler first). */
  advanced: number;
  /** Jobs made. */
  made: number;
}

/**
 * Fires a queue's repeatable jobs; one runs inside every Worker. It sleeps until
 * the earliest due tick (at most MAX_IDLE_MS), reads the due schedules
 * (schedule-due.lua), works out each one's next tick here (cron in JS), and sends
 * the batch to schedule-fire.lua, which applies a tick only if nobody fired it
 * first. However many schedulers run, each tick makes exactly one job.
 */
export class Scheduler {
  readonly keys: ScheduleKeys;
  private readonly queueKeys: QueueKeys;
  /** Compiled specs by schedule id, valid for the version they carry. */
  private readonly cache = new Map<string, CompiledSchedule>();
  private running = false;
  private done: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: Redis,
    queueKeys: QueueKeys,
    private readonly onError: (err: unknown) => void,
    private readonly onRound: (r: SchedulerRound) => void = () => {},
  ) {
    this.queueKeys = queueKeys;
    this.keys = scheduleKeys(queueKeys);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.loop();
  }

  /** Stops the loop; resolves once a round in flight has ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.done;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let sleepMs: number;
      try {
        sleepMs = await this.round();
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        this.onError(err);
        sleepMs = reconnectDelay(failures++);
      }
      if (sleepMs > 0 && this.running) await this.sleep(sleepMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One look: fires what is due and returns how long to sleep before the next. */
  async round(): Promise<number> {
    const due = await this.readDue();
    if (due.items.length === 0) {
      this.onRound({ due: 0, advanced: 0, made: 0 });
      const { nextIn } = due;
      return nextIn < 0 || nextIn > MAX_IDLE_MS ? MAX_IDLE_MS : nextIn + Math.random() * JITTER_MS;
    }
    const r = await this.fire(due);
    this.onRound(r);
    // Something moved: look again at once, more may be due. Nothing did: another
    // scheduler fired them, or they changed; pause briefly rather than spin.
    return r.advanced > 0 ? 0 : NOTHING_FIRED_PAUSE_MS;
  }

  /** The first half of a round: the due schedules as Redis has them now, specs compiled. */
  async readDue(): Promise<DueBatch> {
    const [now, nextIn, ...flat] = await callScript<[number, number, ...string[]]>(
      this.client,
      'schedule-due',
      scheduleScriptKeys.due(this.keys),
      [BATCH, CLAIM_MS],
    );
    const items: DueItem[] = [];
    for (let i = 0; i < flat.length; i += 3)
      items.push({ id: flat[i]!, tick: Number(flat[i + 1]), run: flat[i + 2]! });
    await this.compileMissing(items);
    return { now, nextIn, items };
  }

  /** The second half: fires the batch; schedules changed or fired since it was read are left alone. */
  async fire(due: DueBatch): Promise<SchedulerRound> {
    const args: (string | number)[] = [];
    for (const { id, tick, run: runValue } of due.items) {
      const run = parseRun(runValue);
      const c = this.cache.get(id);
      // Changed since the read: its next round has the new spec.
      if (c === undefined || c.version !== run.version) continue;
      const plan = planTick(c.spec, c.grid, tick, due.now, run.made);
      const made = run.made + (plan.job ? 1 : 0);
      args.push(
        id,
        tick,
        runValue,
        plan.next,
        formatRun({ version: run.version, made, last: tick }),
        plan.job ? tickJobId(id, tick) : '',
        plan.job ? tickRecord(c) : '',
        c.spec.opts.priority ?? 0,
        c.spec.opts.delay ?? 0,
        c.spec.opts.group ?? '',
      );
    }
    if (args.length === 0) return { due: due.items.length, advanced: 0, made: 0 };
    const keys = scheduleScriptKeys.fire(this.keys, this.queueKeys);
    const [advanced, made] = await callScript<[number, number]>(this.client, 'schedule-fire', keys, args);
    return { due: due.items.length, advanced, made };
  }

  /** Reads and compiles the specs of due schedules whose version is not cached yet. */
  private async compileMissing(items: DueItem[]): Promise<void> {
    const ids = items
      .filter((d) => this.cache.get(d.id)?.version !== parseRun(d.run).version)
      .map((d) => d.id);
    if (ids.length === 0) return;
    // Spec and runs value together, so the spec is known to belong to that version.
    const r = (await this.client
      .multi()
      .hmget(this.keys.specs, ...ids)
      .hmget(this.keys.runs, ...ids)
      .exec()) as [Error | null, (string | null)[]][];
    for (const [err] of r) if (err) throw err;
    const specs = r[0]![1];
    const runs = r[1]![1];
    if (this.cache.size + ids.length > MAX_CACHED) this.cache.clear();
    ids.forEach((id, i) => {
      const json = specs[i];
      const run = runs[i];
      if (!json || !run) return;
      try {
        this.cache.set(id, compileSchedule(json, parseRun(run).version));
      } catch (err) {
        this.onError(err);
      }
    });
  }
}
