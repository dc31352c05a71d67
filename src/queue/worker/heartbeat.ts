import type { Redis } from 'ioredis';
import { callScript } from '../../redis/scripts.js';
import { Periodic } from '../../util/periodic.js';
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
  private beats = 0;

  private readonly periodic: Periodic;

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly maxStalls: number,
    private readonly keepFailed: RetentionOptions,
    private readonly onReport: (r: HeartbeatReport) => void,
    onError: (err: unknown) => void,
  ) {
    this.periodic = new Periodic(Math.max(50, Math.floor(leaseMs / 3)), () => this.beat(), onError);
  }

  start(): void {
    this.periodic.start({ now: true });
  }

  stop(): void {
    this.periodic.stop();
  }

  async beat(): Promise<void> {
    const keys = scriptKeys(this.keys);
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
