import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient } from '../redis/connection.js';
import { callScript, defineScripts } from '../redis/scripts.js';
import { ValidationError } from '../util/errors.js';
import { LockLostError, LockTimeoutError } from './errors.js';
import { type LockKeys, lockKeys, lockScriptKeys } from './keys.js';
import { lockScriptName, lockScripts } from './scripts.js';

/** Longest resource name, in bytes. */
export const MAX_RESOURCE_BYTES = 512;

export interface LockManagerOptions {
  /** Redis URL or ioredis options; defaults to REDIS_URL, then redis://127.0.0.1:6379. */
  connection?: ConnectionOptions;
  /** Key prefix; keys are `{<prefix>:<resource>}` and `{<prefix>:<resource>}:fence`. Default `hopper:lock`. */
  prefix?: string;
  /** Default lock lifetime in ms when not renewed. Default 30 000. */
  ttl?: number;
}

export interface AcquireOptions {
  /** Lifetime of this lock in ms; default: the manager's ttl. */
  ttl?: number;
  /** How long to keep trying while someone else holds it, in ms. 0 tries once. Default 10 000. */
  waitMs?: number;
  /** Pause between tries, in ms (randomised ±50% so waiters do not retry in lockstep). Default 50. */
  retryDelayMs?: number;
}

export interface WithLockOptions extends AcquireOptions {
  /** How often the lock is renewed while `fn` runs. Default a third of the ttl. */
  renewEveryMs?: number;
}

/** Acquire-time options after defaults and checks. */
interface Resolved {
  ttl: number;
  waitMs: number;
  retryDelayMs: number;
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new ValidationError(field, `must be a positive integer (ms), got ${String(value)}`);
  return value;
}

function validateResource(resource: unknown): string {
  if (typeof resource !== 'string' || resource.length === 0)
    throw new ValidationError('resource', 'must be a non-empty string');
  if (Buffer.byteLength(resource) > MAX_RESOURCE_BYTES)
    throw new ValidationError('resource', `must be at most ${MAX_RESOURCE_BYTES} bytes`);
  return resource;
}

/**
 * A held lock. `fence` grows with every acquisition of the resource: pass it to
 * the resource you protect and have it refuse any fence lower than one it has seen,
 * so a holder that paused past its TTL cannot overwrite a newer holder's work.
 */
export class LockHandle {
  constructor(
    private readonly client: Redis,
    private readonly keys: LockKeys,
    readonly resource: string,
    /** Random per acquisition; proves ownership to renew and release. */
    readonly token: string,
    /** Fencing number: strictly greater than every earlier holder's. */
    readonly fence: number,
    /** TTL in ms the lock was taken (or last renewed) with. */
    public ttl: number,
  ) {}

  /** Extends the lock to `ttl` ms from now (Redis time). Throws LockLostError if it is no longer ours. */
  async renew(ttl: number = this.ttl): Promise<void> {
    positiveInteger('ttl', ttl);
    const ok = await callScript<number>(this.client, lockScriptName.renew, lockScriptKeys.renew(this.keys), [
      this.token,
      ttl,
    ]);
    if (ok !== 1)
      throw new LockLostError(this.resource, `lock ${this.resource} is no longer held by this holder`);
    this.ttl = ttl;
  }

  /**
   * Frees the lock. Resolves true when it did; false when the lock had already
   * expired or belongs to someone else now (nothing was deleted).
   */
  async release(): Promise<boolean> {
    const n = await callScript<number>(
      this.client,
      lockScriptName.release,
      lockScriptKeys.release(this.keys),
      [this.token],
    );
    return n === 1;
  }

  /** `await using lock = await locks.acquire(r)` releases at the end of the block (no auto-renew: see withLock). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

/**
 * Hands out locks on named resources over one Redis connection shared by all of
 * them (a connection per lock would not scale to many resources).
 * Single-instance Redis locking: see docs/pubsub-and-locks.md for the limits.
 */
export class LockManager {
  readonly prefix: string;
  private readonly ttl: number;
  private readonly client: Redis;

  constructor(options: LockManagerOptions = {}) {
    const prefix = options.prefix ?? 'hopper:lock';
    if (typeof prefix !== 'string' || prefix.length === 0)
      throw new ValidationError('prefix', 'must be a non-empty string');
    this.prefix = prefix;
    this.ttl = positiveInteger('ttl', options.ttl ?? 30_000);
    this.client = createClient(options.connection, 'producer');
    this.client.on('error', () => {}); // reconnects on its own; failed commands reject to the caller
    defineScripts(this.client, lockScripts);
  }

  /**
   * Takes the lock on `resource`, waiting up to `waitMs` while another holder has it.
   * Throws LockTimeoutError when the wait runs out.
   */
  async acquire(resource: string, options: AcquireOptions = {}): Promise<LockHandle> {
    validateResource(resource);
    const opts = this.resolve(options);
    const keys = lockKeys(this.prefix, resource);
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + opts.waitMs;
    for (;;) {
      const [taken, fence, pttl] = await callScript<[number, number, number]>(
        this.client,
        lockScriptName.acquire,
        lockScriptKeys.acquire(keys),
        [token, opts.ttl],
      );
      if (taken === 1) return new LockHandle(this.client, keys, resource, token, fence, opts.ttl);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new LockTimeoutError(
          resource,
          `lock ${resource} still held by another holder after ${opts.waitMs} ms`,
        );
      }
      const jittered = opts.retryDelayMs * (0.5 + Math.random());
      // No point sleeping past the holder's expiry, nor past our own deadline.
      const expiry = pttl > 0 ? pttl : jittered;
      await sleep(Math.max(1, Math.min(jittered, expiry, left)));
    }
  }

  /**
   * Runs `fn` while holding the lock: renews it every `renewEveryMs` (a third of
   * the ttl) so `fn` may outlive the ttl, and releases it when `fn` settles.
   * If a renewal finds the lock lost, `signal` aborts at once and withLock rejects
   * with LockLostError even if `fn` then succeeds: its work was not exclusive.
   */
  async withLock<T>(
    resource: string,
    fn: (signal: AbortSignal, lock: LockHandle) => Promise<T> | T,
    options: WithLockOptions = {},
  ): Promise<T> {
    if (typeof fn !== 'function') throw new ValidationError('fn', 'must be a function');
    validateResource(resource);
    const ttl = positiveInteger('ttl', options.ttl ?? this.ttl);
    const every =
      options.renewEveryMs === undefined
        ? Math.max(1, Math.floor(ttl / 3))
        : positiveInteger('renewEveryMs', options.renewEveryMs);
    if (every >= ttl) throw new ValidationError('renewEveryMs', `must be less than ttl (${ttl} ms)`);
    const handle = await this.acquire(resource, options);
    const controller = new AbortController();
    let lost: LockLostError | undefined;
    let lastRenewed = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const tick = async () => {
      try {
        await handle.renew(ttl);
        lastRenewed = Date.now();
      } catch (err) {
        if (err instanceof LockLostError) lost = err;
        // A Redis error is retried next tick; once a whole ttl passed without a
        // renewal the lock may have expired, so we can no longer claim it.
        else if (Date.now() - lastRenewed >= ttl)
          lost = new LockLostError(resource, `lock ${resource} could not be renewed for ${ttl} ms`);
      }
      if (lost) controller.abort(lost);
      else if (!stopped) schedule();
    };
    const schedule = () => {
      // A chain of timeouts, not an interval: renewals never overlap on a slow Redis.
      timer = setTimeout(() => void tick(), every);
      timer.unref();
    };
    schedule();
    try {
      const result = await fn(controller.signal, handle);
      if (lost) throw lost;
      return result;
    } finally {
      stopped = true;
      clearTimeout(timer);
      if (!lost) await handle.release().catch(() => false);
    }
  }

  /** Closes the connection. Held locks are not released: they expire after their ttl. */
  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private resolve(options: AcquireOptions): Resolved {
    const ttl = positiveInteger('ttl', options.ttl ?? this.ttl);
    const waitMs = options.waitMs ?? 10_000;
    if (typeof waitMs !== 'number' || Number.isNaN(waitMs) || waitMs < 0)
      throw new ValidationError(
        'waitMs',
        `must be a number >= 0 (Infinity waits forever), got ${String(waitMs)}`,
      );
    const retryDelayMs = positiveInteger('retryDelayMs', options.retryDelayMs ?? 50);
    return { ttl, waitMs, retryDelayMs };
  }
}
