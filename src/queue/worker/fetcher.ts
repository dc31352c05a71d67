import type { Redis } from 'ioredis';
import { callScript } from '../../redis/scripts.js';
import type { QueueKeys } from '../keys.js';
import { HeldJob } from './job.js';

export interface FetchResult {
  jobs: HeldJob[];
  /** Ms until the next delayed job is due, or -1 when none is. */
  nextDue: number;
}

/**
 * Takes jobs from Redis for one worker: as many per call as it has room for
 * (fetch.lua), and waits for new work on its own blocking connection.
 */
export class Fetcher {
  constructor(
    private readonly client: Redis,
    private readonly blocking: Redis,
    private readonly keys: QueueKeys,
    private readonly workerId: string,
    private readonly leaseMs: number,
  ) {}

  async fetch(count: number): Promise<FetchResult> {
    const k = this.keys;
    const keys = [k.wait, k.waitp, k.pri, k.delayed, k.active, k.workers, k.jobs, k.atts, k.seq, k.signal, k.meta];
    const r = await callScript<string[]>(this.client, 'fetch', keys, [this.workerId, count, this.leaseMs]);
    const token = r[0]!;
    const jobs: HeldJob[] = [];
    for (let i = 2; i < r.length; i += 3) jobs.push(new HeldJob(r[i]!, r[i + 1]!, Number(r[i + 2]), token));
    return { jobs, nextDue: Number(r[1]) };
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
