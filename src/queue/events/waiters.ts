import type { Redis } from 'ioredis';
import { showLogicalNames } from '../../flow/names.js';
import { JobStateError, TimeoutError } from '../../util/errors.js';
import type { QueueKeys } from '../keys.js';
import { readJob } from '../read-job.js';
import { JobFailedError } from './errors.js';

type Ending = 'completed' | 'failed' | 'removed';

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Finished jobs remembered, so a job that finished and was deleted at once is still answered. */
const RECENT_MAX = 10_000;

/**
 * The callers of waitUntilFinished, by job id. Each job's ending comes from the
 * events stream; the job itself is read when it ends (its result or error is never
 * in the event) and once when the wait begins, for a job that had already finished.
 */
export class FinishWaiters {
  private readonly waiting = new Map<string, Set<Waiter>>();
  /** Endings seen since the first wait, for jobs deleted as they finished (removeOnComplete: true). */
  private readonly recent = new Map<string, Ending>();
  private used = false;

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    /** To name a partitioned queue in a ChildFailedError by its name (src/flow/names.ts). */
    private readonly prefix: string,
    /** Calls `then` once the stream has been read up to its end as of now. */
    private readonly whenCaughtUp: (then: () => void) => void,
  ) {}

  wait<R>(jobId: string, timeoutMs: number): Promise<R> {
    this.used = true;
    return new Promise<R>((resolve, reject) => {
      const w: Waiter = {
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.drop(jobId, w);
          reject(new TimeoutError(`job ${jobId} did not finish within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      let set = this.waiting.get(jobId);
      if (!set) {
        set = new Set();
        this.waiting.set(jobId, set);
      }
      set.add(w);
      // It may have finished before this wait began: the stream was read past its event.
      this.check(jobId, undefined);
    });
  }

  /** An event of the stream: settles the waits for jobs that ended. */
  ended(jobId: string, how: Ending): void {
    if (this.used) {
      this.recent.delete(jobId);
      this.recent.set(jobId, how);
      if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
    }
    if (this.waiting.has(jobId)) this.check(jobId, how);
  }

  /** Rejects every wait (the QueueEvents closed). */
  closeAll(err: Error): void {
    for (const set of this.waiting.values())
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(err);
      }
    this.waiting.clear();
  }

  private drop(jobId: string, w: Waiter): void {
    const set = this.waiting.get(jobId);
    set?.delete(w);
    if (set?.size === 0) this.waiting.delete(jobId);
  }

  private settle(jobId: string, ok: boolean, value: unknown): void {
    const set = this.waiting.get(jobId);
    if (!set) return;
    this.waiting.delete(jobId);
    for (const w of set) {
      clearTimeout(w.timer);
      if (ok) w.resolve(value);
      else w.reject(value as Error);
    }
  }

  private gone(jobId: string, how: Ending | undefined): void {
    if (how === 'completed') this.settle(jobId, true, undefined);
    else if (how === 'failed') this.settle(jobId, false, new JobFailedError(jobId, undefined));
    else if (how === 'removed')
      this.settle(jobId, false, new JobStateError(`job ${jobId} was removed before it finished`));
    else this.settle(jobId, false, new JobStateError(`job ${jobId} not found`));
  }

  /** Reads the job; `how` is the ending an event reported, undefined for the first look. */
  private check(jobId: string, how: Ending | undefined): void {
    readJob(this.client, this.keys, jobId)
      .then(async (job) => {
        if (job) await showLogicalNames(this.client, this.prefix, job);
        return job;
      })
      .then(
        (job) => {
          if (job?.state === 'completed') this.settle(jobId, true, job.returnValue);
          else if (job?.state === 'failed') this.settle(jobId, false, new JobFailedError(jobId, job.error));
          // Waiting, delayed or active (a retry may have followed the event): keep waiting.
          else if (job) return;
          // Gone: deleted as it finished (removeOnComplete: true) or removed. Its event is in
          // the stream before now; once the reader got that far, `recent` knows which.
          else if (how) this.gone(jobId, how);
          else this.whenCaughtUp(() => this.gone(jobId, this.recent.get(jobId)));
        },
        // Redis away: a later event (or the timeout) settles the wait.
        () => {},
      );
  }
}
