import type { Redis } from 'ioredis';
import { callScript } from '../../redis/scripts.js';
import { Periodic } from '../../util/periodic.js';
import type { QueueKeys } from '../keys.js';
import { retentionArgs } from '../retention.js';
import { scriptKeys } from '../script-keys.js';
import type { RetentionOptions } from '../types.js';
import type { WorkerReport } from './fetcher.js';

export interface HeartbeatReport {
  reclaimed: number;
  stalledOut: number;
  trimmed: number;
}

/** What the heartbeat tells Redis about the worker's jobs, as they are when it is sent. */
export interface HeldReport extends WorkerReport {
  /** Its jobs that should be in `active`: of fetches it saw, not settled by a call already sent. */
  expected: number;
  /** Every job it holds: id and lease token pairs joined by byte 30. */
  held: string;
  /** The request ids of its last fetch that brought jobs and of its last settle Redis answered (-1: none). */
  fetched: number;
  settled: number;
}

/** Every this many beats, also sweep `active` for jobs whose owner is not a live worker. */
const SWEEP_EVERY = 10;

/**
 * The worker's lease and the queue's upkeep, on one timer: every third of the
 * lease, one heartbeat.lua call renews the lease for all the worker's jobs, takes
 * back jobs of dead workers and the worker's own jobs it no longer holds (checked when
 * Redis's count of them or its marks of the worker's last calls disagree with the
 * worker's: acknowledged writes lost in a failover or an AOF replay), and trims
 * finished jobs past their retention age. The worker also beats at once when it
 * needs to know it may start a reserved job (`beatNow`).
 */
export class Heartbeat {
  private beats = 0;
  private inFlight: Promise<void> | undefined;

  private readonly periodic: Periodic;

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    private readonly repliesKey: string,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly maxStalls: number,
    private readonly keepFailed: RetentionOptions,
    private readonly held: () => HeldReport,
    /** `sentAt`: performance.now() when the beat was sent; `state`: WorkerState flags. */
    private readonly onState: (sentAt: number, state: number) => void,
    private readonly onReport: (r: HeartbeatReport) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.periodic = new Periodic(Math.max(50, Math.floor(leaseMs / 3)), () => this.beat(), onError);
  }

  start(): void {
    this.periodic.start({ now: true });
  }

  stop(): void {
    this.periodic.stop();
  }

  /**
   * A beat at once, unless one is in flight (its reply comes first anyway). On the
   * next turn, so that a call from the handling of a beat's own reply gets a new beat.
   */
  beatNow(): void {
    setImmediate(() => this.beat().catch(this.onError));
  }

  beat(): Promise<void> {
    this.inFlight ??= this.send().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async send(): Promise<void> {
    const keys = scriptKeys(this.keys, this.repliesKey);
    const [age, count] = retentionArgs(this.keepFailed);
    const { reserved, seen, expected, held, fetched, settled } = this.held();
    const sentAt = performance.now();
    const [reclaimed, stalledOut, trimmed, state] = await callScript<number[]>(
      this.client,
      'heartbeat',
      keys,
      [
        this.workerId,
        this.leaseMs,
        this.maxStalls,
        age,
        count,
        this.beats++ % SWEEP_EVERY === SWEEP_EVERY - 1 ? '1' : '0',
        reserved,
        seen,
        expected,
        held,
        fetched,
        settled,
      ],
    );
    this.onState(sentAt, state!);
    if (reclaimed || stalledOut || trimmed)
      this.onReport({ reclaimed: reclaimed!, stalledOut: stalledOut!, trimmed: trimmed! });
  }
}
