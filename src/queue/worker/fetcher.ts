import type { Redis } from 'ioredis';
import { callScript } from '../../redis/scripts.js';
import type { QueueKeys } from '../keys.js';
import { SEP } from '../record.js';
import { scriptKeys } from '../script-keys.js';
import type { Annotator } from './annotator.js';
import { HeldJob } from './job.js';

export interface FetchResult {
  jobs: HeldJob[];
  /** Ms until the next delayed job, parked group or rate window is due, or -1 when none is. */
  nextDue: number;
  /** The queue has concurrency or rate limits: jobs fetched ahead of free slots would hold them for nothing. */
  limited: boolean;
  /** The worker's state as the call found it (WorkerState flags, and lapseTime). */
  state: number;
}

/** What a worker's calls report about it (worker-lease.lua): may it start the jobs it holds reserved? */
export const WorkerState = {
  /** The queue is paused: start nothing, give reserved jobs back. */
  PAUSED: 1,
  /** The worker's lease had lapsed before the call: jobs it fetched before may be another worker's now. */
  LAPSED: 2,
} as const;

/**
 * The Redis time (ms) of the worker's latest recall, which every state carries above its
 * flags: its latest lapse, or the queue's latest pauseGroup (worker-lease.lua). Jobs it
 * fetched before a recall do not start.
 */
export function recallTime(state: number): number {
  return Math.floor(state / 4);
}

/** What the worker tells each call about itself, as it is when the call is sent. */
export interface WorkerReport {
  /** Jobs it holds reserved: fetched, not started. */
  reserved: number;
  /** The token of the last fetch whose reply it saw ('' before any). */
  seen: string;
}

/**
 * Takes jobs from Redis for one worker: as many per call as it has room for
 * (fetch.lua), and waits for new work on its own blocking connection.
 */
export class Fetcher {
  /** Changes only after a fetch succeeds: a retried fetch is the same request (fetch.lua is idempotent per id). */
  private request = 0;
  /** The token of the last fetch that brought jobs: jobs with a later token are on their way here. */
  seen = '';
  /** The request id of the last fetch that brought jobs (-1: none): Redis records it (heartbeat.lua). */
  applied = -1;

  constructor(
    private readonly client: Redis,
    private readonly blocking: Redis,
    private readonly keys: QueueKeys,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly repliesKey: string,
    private readonly notes: Annotator,
  ) {}

  /** Takes up to `count` jobs; `reserved` jobs wait here unstarted and `free` slots are free right now. */
  async fetch(count: number, reserved: number, free: number): Promise<FetchResult> {
    const keys = scriptKeys(this.keys, this.repliesKey);
    const [token, nextDue, joined, limited, state] = await callScript<
      [string, number, string, number, number]
    >(this.client, 'fetch', keys, [
      this.workerId,
      count,
      this.leaseMs,
      this.request,
      reserved,
      this.seen,
      free,
    ]);
    if (joined) {
      this.seen = token;
      this.applied = this.request;
    }
    this.request++;
    const jobs: HeldJob[] = [];
    if (joined) {
      // id, attempts made, record; repeated, joined by byte 30 (see split.lua)
      const parts = joined.split(SEP);
      for (let i = 0; i < parts.length; i += 3)
        jobs.push(new HeldJob(parts[i]!, parts[i + 2]!, Number(parts[i + 1]), token, this.notes));
    }
    // The REST driver polls instead of blocking: work seen, its backoff starts again.
    if (jobs.length > 0) (this.blocking as { resetPoll?: () => void }).resetPoll?.();
    return { jobs, nextDue: Number(nextDue), limited: limited === 1, state: Number(state) };
  }

  /**
   * Blocks until a producer signals new work or `ms` pass. BRPOP takes fractional
   * seconds, so a delayed job is picked up close to its due time. Errors (Redis
   * restarting) are left to the caller's backoff.
   */
  async waitForWork(ms: number): Promise<void> {
    await this.blocking.brpop(this.keys.signal, Math.max(0.001, ms / 1000));
  }
}
