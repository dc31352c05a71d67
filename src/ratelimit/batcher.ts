import type { Redis } from 'ioredis';
import { isCluster } from '../redis/connection.js';
import { callScript } from '../redis/scripts.js';
import { groupBySlot } from '../redis/slots.js';
import { HopperError } from '../util/errors.js';
import type { LimitResult } from './types.js';

/** Redis did not answer a rate-limit script within `timeoutMs`, or is known to be down. */
export class RedisUnavailableError extends HopperError {
  override name = 'RedisUnavailableError';
}

interface Pending {
  key: string;
  cost: number;
  resolve: (result: LimitResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Sends checks to one script (`<algorithm>-limit` or `-peek`). With `batch` on, every
 * check made in the same event-loop turn goes in one EVALSHA (one key per check, and its
 * cost unless all cost 1; four integers back per check); several calls may be in flight at once.
 * With `batch` off, each check is its own call (kept for the benchmark's comparison).
 */
export class ScriptBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly flushNow = () => this.flush();

  constructor(
    private readonly client: Redis,
    private readonly script: string,
    /** limit, window, capacity: the script's first three arguments. */
    private readonly head: readonly [number, number, number],
    private readonly timeoutMs: number,
    private readonly batch: boolean,
    private readonly isDown: () => boolean,
    // Measured (docs/ratelimit.md): with 100 checks in flight, calls of up to 64 keep two
    // in flight, so Node prepares one while Redis runs the other; one call of 100 does not.
    private readonly maxBatch = 64,
  ) {
    this.bySlot = isCluster(client);
  }

  private readonly bySlot: boolean;

  run(key: string, cost: number): Promise<LimitResult> {
    return new Promise((resolve, reject) => {
      const p: Pending = { key, cost, resolve, reject };
      if (!this.batch) {
        this.send([p]);
        return;
      }
      this.pending.push(p);
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    if (!this.bySlot) this.send(batch);
    // On a Cluster one script call may only touch one slot.
    else for (const group of groupBySlot(batch, (p) => p.key)) this.send(group);
  }

  private send(batch: Pending[]): void {
    // A known outage answers at once: nothing is queued to run (and consume) after the fact.
    if (this.isDown()) {
      const err = new RedisUnavailableError('Redis connection is down');
      for (const p of batch) p.reject(err);
      return;
    }
    const keys = new Array<string>(batch.length);
    let unitCosts = true;
    for (let i = 0; i < batch.length; i++) {
      keys[i] = batch[i]!.key;
      if (batch[i]!.cost !== 1) unitCosts = false;
    }
    // Costs go only when some check costs more than 1 (includes/batch.lua).
    const args: number[] = unitCosts ? [...this.head] : [...this.head, ...batch.map((p) => p.cost)];
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      const err = new RedisUnavailableError(`Redis did not answer within ${this.timeoutMs} ms`);
      for (const p of batch) p.reject(err);
    }, this.timeoutMs);
    callScript<number[]>(this.client, this.script, keys, args).then(
      (reply) => {
        clearTimeout(timer);
        if (settled) return;
        const limit = this.head[0];
        for (let i = 0; i < batch.length; i++) {
          const o = i * 4;
          batch[i]!.resolve({
            allowed: reply[o] === 1,
            limit,
            remaining: reply[o + 1]!,
            resetMs: reply[o + 2]!,
            retryAfterMs: reply[o + 3]!,
          });
        }
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        for (const p of batch) p.reject(err);
      },
    );
  }
}
