import type { Redis } from 'ioredis';
import { callScript } from '../../redis/scripts.js';
import type { QueueKeys } from '../keys.js';
import { retentionArgs } from '../retention.js';
import { scriptKeys } from '../script-keys.js';
import type { RetentionOptions } from '../types.js';

export interface HeartbeatReport {
  reclaimed: number;
  stalledOut: number;
  trimmed: number;
}

/**
 * The worker's lease and the queue's upkeep, on one timer: every third of the
 * lease, one heartbeat.lua call renews the lease for all the worker's jobs, takes
 * back jobs of dead workers and trims finished jobs past their retention age.
 */
/** Every this many beats, also sweep `active` for jobs whose owner is not a live worker. */
const SWEEP_EVERY = 10;

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beats = 0;
  private beating = false;

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly maxStalls: number,
    private readonly keepFailed: RetentionOptions,
    private readonly onReport: (r: HeartbeatReport) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One beat at a time: during an outage beats must not pile up and replay at once. */
  private tick(): void {
    if (this.beating) return;
    this.beating = true;
    this.beat()
      .catch(this.onError)
      .finally(() => {
        this.beating = false;
      });
  }

  async beat(): Promise<void> {
    const keys = scriptKeys.heartbeat(this.keys);
    const [age, count] = retentionArgs(this.keepFailed);
    const [reclaimed, stalledOut, trimmed] = await callScript<number[]>(this.client, 'heartbeat', keys, [
      this.workerId,
      this.leaseMs,
      this.maxStalls,
      age,
      count,
      this.beats++ % SWEEP_EVERY === SWEEP_EVERY - 1 ? '1' : '0',
    ]);
    if (reclaimed || stalledOut || trimmed)
      this.onReport({ reclaimed: reclaimed!, stalledOut: stalledOut!, trimmed: trimmed! });
  }
}
