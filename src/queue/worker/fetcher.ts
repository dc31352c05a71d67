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
}

/**
 * Takes jobs from Redis for one worker: as many per call as it has room for
 * (fetch.lua), and waits for new work on its own blocking connection.
 */
export class Fetcher {
  /** Changes only after a fetch succeeds: a retried fetch is the same request (fetch.lua is idempotent per id). */
  private request = 0;

  constructor(
    private readonly client: Redis,
    private readonly blocking: Redis,
    private readonly keys: QueueKeys,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly repliesKey: string,
    private readonly notes: Annotator,
  ) {}

  async fetch(count: number): Promise<FetchResult> {
    const keys = scriptKeys(this.keys, this.repliesKey);
    const [token, nextDue, joined, limited] = await callScript<[string, number, string, number]>(
      this.client,
      'fetch',
      keys,
      [this.workerId, count, this.leaseMs, this.request],
    );
    this.request++;
    const jobs: HeldJob[] = [];
    if (joined) {
      // id, attempts made, record; repeated, joined by byte 30 (see split.lua)
      const parts = joined.split(SEP);
      for (let i = 0; i < parts.length; i += 3)
        jobs.push(new HeldJob(parts[i]!, parts[i + 2]!, Number(parts[i + 1]), token, this.notes));
    }
    return { jobs, nextDue: Number(nextDue), limited: limited === 1 };
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
