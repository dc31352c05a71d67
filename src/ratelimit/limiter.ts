import { Redis } from 'ioredis';
import { type ConnectionOptions, createClient, resolveConnection } from '../redis/connection.js';
import { redactError } from '../redis/redact.js';
import { defineScripts } from '../redis/scripts.js';
import { createRestClient, isRestConnection, type RestConnection } from '../transport/rest/index.js';
import { ScriptBatcher } from './batcher.js';
import { fallbackAnswer } from './fallback.js';
import { keyBuilder } from './keys.js';
import { type Answer, MemoryLimiter } from './memory.js';
import { definedScripts, scriptName } from './scripts.js';
import { storageOf } from './storage.js';
import type { Algorithm, LimitOptions, LimitResult, RateLimiterOptions } from './types.js';
import { type LimiterConfig, validateCost, validateKey, validateOptions } from './validate.js';

/**
 * A distributed rate limiter: one atomic Lua script per check, time from Redis, checks
 * of one event-loop turn coalesced into one script call. See docs/ratelimit.md.
 */
export class RateLimiter {
  /** The validated policy. `capacity` is the most one check can get: `burst` for token bucket and GCRA, else `limit`. */
  readonly policy: Readonly<{ algorithm: Algorithm; limit: number; window: number; capacity: number }>;
  private readonly config: LimiterConfig;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly redisKey: (key: string) => string;
  private readonly limiter: ScriptBatcher;
  private readonly peeker: ScriptBatcher;
  private readonly memory: MemoryLimiter | undefined;
  private readonly onFallback: ((error: Error) => void) | undefined;
  private secrets: string[] = [];
  private everReady = false;

  constructor(opts: RateLimiterOptions) {
    this.config = validateOptions(opts);
    const c = this.config;
    this.policy = Object.freeze({
      algorithm: c.algorithm,
      limit: c.limit,
      window: c.window,
      capacity: c.capacity,
    });
    this.onFallback = opts.onFallback;
    const storage = storageOf(c.algorithm, c.limit, c.window);
    this.redisKey = keyBuilder(c.prefix, storage, c.window);
    if (opts.connection instanceof Redis) {
      this.client = opts.connection;
      this.ownsClient = false;
    } else if (isRestConnection(opts.connection)) {
      // Over REST: no retries either (RETRIES.ratelimit), the same fallbacks.
      this.client = createRestClient(opts.connection as RestConnection, 'ratelimit');
      this.ownsClient = true;
      this.client.on('error', () => {});
    } else {
      const base = resolveConnection(opts.connection as ConnectionOptions | undefined);
      if (base.password) this.secrets.push(base.password);
      this.client = createClient(opts.connection as ConnectionOptions | undefined, 'producer', {
        // A check that cannot run now must fall back now, and must not run (and consume)
        // later: no retries of queued commands, no resend of in-flight ones after a reconnect.
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        connectionName: 'hopper:ratelimit',
      });
      this.ownsClient = true;
      // Errors reach callers as fallbacks (and onFallback); this only keeps ioredis quiet.
      this.client.on('error', () => {});
    }
    this.everReady = this.client.status === 'ready';
    this.client.on('ready', () => {
      this.everReady = true;
    });
    defineScripts(this.client, definedScripts);
    // Until the first connect, checks wait in ioredis' offline queue (bounded by timeoutMs);
    // after it, a dropped connection means an outage and checks fall back at once.
    const isDown = () => this.everReady && this.client.status !== 'ready';
    const head = [c.limit, c.window, c.capacity] as const;
    this.limiter = new ScriptBatcher(
      this.client,
      scriptName(storage, 'limit'),
      head,
      c.timeoutMs,
      c.batch,
      isDown,
    );
    this.peeker = new ScriptBatcher(
      this.client,
      scriptName(storage, 'peek'),
      head,
      c.timeoutMs,
      c.batch,
      isDown,
    );
    this.memory = c.onRedisError === 'memory' ? new MemoryLimiter(c) : undefined;
  }

  /** Consumes `cost` units for `key` if they are available. Never rejects for a Redis outage. */
  limit(key: string, opts?: LimitOptions): Promise<LimitResult> {
    // Not async: on the hot path one promise per check, not three.
    let cost: number;
    try {
      validateKey(key);
      cost = opts?.cost === undefined ? 1 : validateCost(opts.cost, this.config);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.limiter
      .run(this.redisKey(key), cost)
      .then(undefined, (err: unknown) => this.fallback(err, key, cost, true));
  }

  /** The answer a check of cost 1 would get now, consuming nothing. */
  peek(key: string): Promise<LimitResult> {
    try {
      validateKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.peeker
      .run(this.redisKey(key), 1)
      .then(undefined, (err: unknown) => this.fallback(err, key, 1, false));
  }

  /**
   * Forgets everything counted for `key`. Resolves true when Redis was cleared, false when
   * Redis was unreachable (the memory stand-in, if any, is cleared either way).
   */
  async reset(key: string): Promise<boolean> {
    validateKey(key);
    this.memory?.reset(key);
    if (this.everReady && this.client.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.del(this.redisKey(key)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('reset timed out')), this.config.timeoutMs);
        }),
      ]);
      return true;
    } catch (err) {
      this.report(err);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection the limiter opened (a client passed in `connection` stays open). */
  async close(): Promise<void> {
    if (!this.ownsClient) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private fallback(err: unknown, key: string, cost: number, write: boolean): LimitResult {
    this.report(err);
    return this.toResult(fallbackAnswer(this.config, this.memory, key, cost, write));
  }

  private report(err: unknown): void {
    if (!this.onFallback) return;
    try {
      this.onFallback(redactError(err, this.secrets));
    } catch {
      // A throwing callback must not turn an outage into a failed check.
    }
  }

  private toResult(a: Answer): LimitResult {
    return {
      allowed: a[0] === 1,
      limit: this.config.limit,
      remaining: a[1],
      resetMs: a[2],
      retryAfterMs: a[3],
    };
  }
}
