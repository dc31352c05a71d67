import type { Redis } from 'ioredis';
import { callScript, defineScripts } from '../redis/scripts.js';
import { Periodic } from '../util/periodic.js';
import { metricKeys } from './keys.js';
import { dayTtlMs, type MetricsConfig } from './options.js';
import { metricsScripts, RECORD_SCRIPT } from './scripts.js';
import { Tally } from './tally.js';
import type { Counter, FailedJobRecord } from './types.js';

/** How much of a failed job's data and stack the failed-jobs list keeps. */
export const DATA_PREVIEW_CHARS = 1024;
const STACK_CHARS = 2000;

/**
 * Records one queue's metrics without a round trip per job: calls only add to an
 * in-process Tally; a timer writes it once a second (and close() at the end) with
 * one record-metrics.lua call. A flush that fails (Redis away) is merged into the
 * next one, so counts survive an outage of this process's connection.
 */
export class MetricsRecorder {
  private tally = new Tally();
  private readonly periodic: Periodic;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly client: Redis,
    /** The queue's hash tag, `{prefix:name}`. */
    private readonly tag: string,
    /** Checked options: see metricsOption(). */
    private readonly config: MetricsConfig,
    onError: (err: unknown) => void = () => {},
  ) {
    defineScripts(client, metricsScripts);
    this.periodic = new Periodic(this.config.flushMs, () => this.flush(), onError);
    this.periodic.start();
  }

  count(counter: Counter, n = 1): void {
    if (n > 0) this.tally.count(counter, n);
  }

  /** One attempt: `tookMs` of handler time, started `waitMs` after the job was added. */
  attempt(tookMs: number, waitMs: number): void {
    this.tally.timing('exec', tookMs);
    this.tally.timing('wait', waitMs);
  }

  failure(record: FailedJobRecord): void {
    const r = { ...record, error: { ...record.error } };
    if (r.error.stack && r.error.stack.length > STACK_CHARS)
      r.error.stack = r.error.stack.slice(0, STACK_CHARS);
    if (r.data && r.data.length > DATA_PREVIEW_CHARS) r.data = r.data.slice(0, DATA_PREVIEW_CHARS);
    this.tally.failure(JSON.stringify(r), this.config.failedJobsKept);
  }

  /** Writes what was recorded since the last flush; one script call, nothing when idle. */
  flush(): Promise<void> {
    // One flush at a time: a second caller waits for the one in flight, then writes what came since.
    const next = (this.inFlight ?? Promise.resolve()).catch(() => {}).then(() => this.write());
    this.inFlight = next;
    return next;
  }

  private async write(): Promise<void> {
    const tally = this.tally;
    if (tally.empty) return;
    this.tally = new Tally();
    const c = this.config;
    const k = metricKeys(this.tag, Date.now());
    const pairs = tally.pairs();
    try {
      await callScript<number>(
        this.client,
        RECORD_SCRIPT,
        [k.minute, k.day, k.total, k.failed],
        [
          c.minuteRetentionMs,
          dayTtlMs(c),
          c.failedJobsKept,
          c.retentionMs,
          pairs.length / 2,
          ...pairs,
          ...tally.failures,
        ],
      );
    } catch (err) {
      this.tally.merge(tally, c.failedJobsKept);
      throw err;
    }
  }

  /** Stops the timer and writes what is left. The client stays open (it belongs to the caller). */
  async close(): Promise<void> {
    this.periodic.stop();
    await this.flush();
  }
}
