import type { Redis } from 'ioredis';
import { reconnectDelay } from '../../redis/connection.js';
import { callScript } from '../../redis/scripts.js';
import type { QueueKeys } from '../keys.js';
import type { Outcome } from './processor.js';

/** An outcome with what settle.lua needs to apply it. */
export interface Settlement {
  outcome: Outcome;
  /** Result JSON for a completion, error JSON for a failure. */
  payload: string;
  /** Ms before the next attempt; -1 when the job is done failing. Unused for completions. */
  retryDelay: number;
  keepAge: number;
  keepCount: number;
}

const MAX_PER_CALL = 1000;

/**
 * Acknowledges outcomes in batches: whatever finished while the previous call was
 * in flight goes in the next settle.lua call. One call is in flight at a time; on
 * a Redis error the batch is kept and retried with backoff, so nothing finished
 * is forgotten while Redis restarts.
 */
export class Acker {
  private pending: Settlement[] = [];
  private inFlight = false;
  private failures = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    private readonly onSettled: (applied: Settlement[], lost: Settlement[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  get size(): number {
    return this.pending.length + (this.inFlight ? 1 : 0);
  }

  push(s: Settlement): void {
    this.pending.push(s);
    if (!this.inFlight) {
      this.inFlight = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once everything pushed so far is acknowledged (or `ms` passed). */
  async whenIdle(ms: number): Promise<void> {
    if (this.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idle.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  private flush(): void {
    const batch = this.pending.splice(0, MAX_PER_CALL);
    if (batch.length === 0) {
      this.inFlight = false;
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const done = batch.filter((s) => s.outcome.ok);
    const failed = batch.filter((s) => !s.outcome.ok);
    const args: (string | number)[] = [done.length, failed.length];
    for (const s of done) args.push(s.outcome.job.id, s.outcome.job.token, s.payload, s.keepAge, s.keepCount);
    for (const s of failed) {
      args.push(s.outcome.job.id, s.outcome.job.token, s.payload, s.retryDelay, s.keepAge, s.keepCount);
    }
    const k = this.keys;
    const keys = [
      k.active, k.jobs, k.atts, k.pri, k.stalls, k.results, k.errors,
      k.completed, k.failed, k.wait, k.waitp, k.delayed, k.seq, k.signal,
    ];
    callScript<string[]>(this.client, 'settle', keys, args).then(
      (rejected) => {
        this.failures = 0;
        const ordered = [...done, ...failed];
        if (rejected.length === 0) this.onSettled(ordered, []);
        else {
          const lost = new Set(rejected);
          this.onSettled(
            ordered.filter((s) => !lost.has(s.outcome.job.id)),
            ordered.filter((s) => lost.has(s.outcome.job.id)),
          );
        }
        this.flush();
      },
      (err) => {
        this.pending.unshift(...batch);
        this.onError(err);
        setTimeout(() => this.flush(), reconnectDelay(this.failures++));
      },
    );
  }
}
