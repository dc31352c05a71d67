import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient } from '../../redis/connection.js';
import { callScript, defineScripts } from '../../redis/scripts.js';
import { HopperError, ValidationError } from '../../util/errors.js';
import { backoffDelay } from '../backoff.js';
import { type QueueKeys, queueKeys, workerRepliesKey } from '../keys.js';
import { decodeRecord, SEP } from '../record.js';
import { DEFAULT_KEEP_COMPLETED, DEFAULT_KEEP_FAILED, retentionArgs } from '../retention.js';
import { scriptKeys } from '../script-keys.js';
import { queueScripts } from '../scripts.js';
import { validatePrefix, validateQueueName } from '../validate.js';

/** A job handed to a pull worker (over HTTP): what a handler would see. */
export interface PulledJob {
  id: string;
  name: string;
  data: unknown;
  opts: Record<string, unknown>;
  attemptsMade: number;
  timestamp: number;
}

/** The lease of one fetch lapsed (or was never this server's): the acknowledgement was not applied. */
export class LeaseLostError extends HopperError {
  override name = 'LeaseLostError';
}

const LAPSED = 2;
const LEASE = /^([0-9a-f]{16})\.([^\s.]{1,64})$/;
export const PULL_LIMITS = { maxCount: 100, minLeaseMs: 1000, maxLeaseMs: 600_000, defaultLeaseMs: 30_000 };

function parseLease(lease: unknown): { wid: string; token: string } {
  const m = typeof lease === 'string' ? LEASE.exec(lease) : null;
  if (!m) throw new ValidationError('lease', 'must be a lease token from a fetch');
  return { wid: `pull-${m[1]}`, token: m[2]! };
}

function intIn(field: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)
    throw new ValidationError(field, `must be an integer from ${min} to ${max}`);
  return v as number;
}

/**
 * Workers that pull (other languages, serverless functions): each fetch is a worker of
 * its own to Redis (id `pull-<lease id>`), with the same scripts and guarantees as a
 * Worker's: the lease covers the fetch's jobs until it lapses, heartbeats renew it, and
 * an outcome sent with a lapsed lease is refused (LeaseLostError), as over TCP. The lease
 * token names the worker and the fetch's job token, so any server process can take the
 * acknowledgement.
 */
export class PullWorkers {
  private readonly client: Redis;
  private readonly keys: QueueKeys;

  constructor(
    readonly name: string,
    options: { connection?: ConnectionOptions; prefix?: string; maxStalls?: number } = {},
  ) {
    validateQueueName(name);
    this.keys = queueKeys(validatePrefix(options.prefix), name);
    this.client = createClient(options.connection, 'producer');
    this.client.on('error', () => {});
    defineScripts(this.client, queueScripts);
    this.maxStalls = options.maxStalls ?? 1;
  }

  private readonly maxStalls: number;

  private scriptKeys(wid: string): string[] {
    return scriptKeys(this.keys, workerRepliesKey(this.keys, wid));
  }

  /** Up to `count` jobs, all started at once under one lease of `leaseMs`. */
  async fetch(
    count?: unknown,
    leaseMs?: unknown,
  ): Promise<{ lease: string; leaseMs: number; jobs: PulledJob[] }> {
    const n = intIn('count', count, 1, PULL_LIMITS.maxCount, 1);
    const ms = intIn(
      'leaseMs',
      leaseMs,
      PULL_LIMITS.minLeaseMs,
      PULL_LIMITS.maxLeaseMs,
      PULL_LIMITS.defaultLeaseMs,
    );
    const id = randomBytes(8).toString('hex');
    const wid = `pull-${id}`;
    const [token, , joined] = await callScript<[string, number, string, number, number]>(
      this.client,
      'fetch',
      this.scriptKeys(wid),
      [wid, n, ms, 0, 0, '', n],
    );
    const jobs: PulledJob[] = [];
    if (joined) {
      const parts = joined.split(SEP);
      for (let i = 0; i < parts.length; i += 3) {
        const r = decodeRecord(parts[i + 2]!);
        jobs.push({
          id: parts[i]!,
          name: r.name,
          data: r.data,
          opts: r.opts as Record<string, unknown>,
          attemptsMade: Number(parts[i + 1]),
          timestamp: r.timestamp,
        });
      }
    }
    // An empty fetch leaves no worker behind: polling clients would otherwise fill the
    // workers set until heartbeats swept them.
    if (jobs.length === 0)
      await this.client
        .multi()
        .zrem(this.keys.workers, wid)
        .hdel(this.keys.reserved, wid)
        .del(workerRepliesKey(this.keys, wid))
        .exec();
    return { lease: jobs.length ? `${id}.${token}` : '', leaseMs: ms, jobs };
  }

  /** Renews the lease for the jobs still held (`ids`); the fetch's other jobs go back in line. */
  async heartbeat(lease: unknown, ids: unknown, leaseMs?: unknown): Promise<void> {
    const { wid, token } = parseLease(lease);
    if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string' || i.length === 0 || i.includes(SEP)))
      throw new ValidationError('jobs', 'must be an array of the job ids still held');
    const ms = intIn(
      'leaseMs',
      leaseMs,
      PULL_LIMITS.minLeaseMs,
      PULL_LIMITS.maxLeaseMs,
      PULL_LIMITS.defaultLeaseMs,
    );
    const [age, count] = retentionArgs(DEFAULT_KEEP_FAILED);
    const held = (ids as string[]).map((id) => `${id}${SEP}${token}`).join(SEP);
    const [, , , state] = await callScript<number[]>(this.client, 'heartbeat', this.scriptKeys(wid), [
      wid,
      ms,
      this.maxStalls,
      age,
      count,
      '0',
      0,
      token,
      ids.length,
      held,
    ]);
    if ((state! & LAPSED) !== 0)
      throw new LeaseLostError('the lease had lapsed: its jobs may be running elsewhere');
    // A job taken back and fetched by another worker is no longer this lease's.
    if (ids.length === 0) return;
    const owners = await this.client.hmget(this.keys.active, ...(ids as string[]));
    const gone = (ids as string[]).filter((_, i) => !owners[i]?.startsWith(`${token}|${wid}|`));
    if (gone.length)
      throw new LeaseLostError(
        `not held under this lease any more (the lease had lapsed): ${gone.slice(0, 10).join(', ')}`,
      );
  }

  /** Completes job `id` held under `lease` with `result` (JSON). */
  complete(lease: unknown, id: unknown, result: unknown, leaseMs?: unknown): Promise<void> {
    return this.settle(lease, id, leaseMs, async (opts, token, jobId) => {
      const [keepAge, keepCount] = retentionArgs((opts.removeOnComplete as never) ?? DEFAULT_KEEP_COMPLETED);
      const json = JSON.stringify(result ?? null);
      return [1, token, keepAge, keepCount, jobId, keepCount === 0 ? '' : json, 0];
    });
  }

  /** Fails job `id`'s attempt; it is retried per its options unless `unrecoverable`. Resolves whether it will be retried. */
  async fail(
    lease: unknown,
    id: unknown,
    error: unknown,
    unrecoverable = false,
    leaseMs?: unknown,
  ): Promise<boolean> {
    const e = error as { message?: unknown; name?: unknown } | undefined;
    if (!e || typeof e.message !== 'string') throw new ValidationError('error.message', 'must be a string');
    let retrying = false;
    await this.settle(lease, id, leaseMs, async (opts, token, jobId, attemptsMade) => {
      const [keepAge, keepCount] = retentionArgs((opts.removeOnFail as never) ?? DEFAULT_KEEP_FAILED);
      const attempt = attemptsMade + 1;
      const last = unrecoverable || attempt >= ((opts.attempts as number | undefined) ?? 1);
      retrying = !last;
      const delay = last ? -1 : backoffDelay(opts.backoff as never, attempt);
      const payload = JSON.stringify({
        name: typeof e.name === 'string' ? e.name : 'Error',
        message: e.message,
      });
      return [0, 1, jobId, token, payload, delay, keepAge, keepCount];
    });
    return retrying;
  }

  private async settle(
    lease: unknown,
    id: unknown,
    leaseMs: unknown,
    args: (
      opts: Record<string, unknown>,
      token: string,
      id: string,
      attemptsMade: number,
    ) => Promise<(string | number)[]>,
  ): Promise<void> {
    const { wid, token } = parseLease(lease);
    if (typeof id !== 'string' || id.length === 0 || id.includes(SEP))
      throw new ValidationError('id', 'must be a job id');
    const ms = intIn(
      'leaseMs',
      leaseMs,
      PULL_LIMITS.minLeaseMs,
      PULL_LIMITS.maxLeaseMs,
      PULL_LIMITS.defaultLeaseMs,
    );
    const record = await this.client.hget(this.keys.jobs, id);
    const attempts = Number((await this.client.hget(this.keys.atts, id)) ?? 0);
    if (record === null) throw new LeaseLostError(`job ${id} is not held under this lease`);
    const opts = decodeRecord(record).opts as Record<string, unknown>;
    const request = randomBytes(8).toString('hex');
    const [, ...rejected] = await callScript<[number, ...string[]]>(
      this.client,
      'settle',
      this.scriptKeys(wid),
      [request, wid, ms, 0, token, ...(await args(opts, token, id, attempts))],
    );
    if (rejected.includes(id))
      throw new LeaseLostError(`job ${id}: the lease had lapsed, the outcome was not applied`);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
