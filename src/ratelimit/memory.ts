import type { LimiterConfig } from './validate.js';

/** One check's answer in the scripts' shape: allowed, remaining, reset ms, retry-after ms. */
export type Answer = [allowed: number, remaining: number, resetMs: number, retryMs: number];

type State =
  | { kind: 'count'; index: number; cur: number; prev: number; expiresUs: number }
  | { kind: 'hits'; hits: number[]; expiresUs: number }
  | { kind: 'tokens'; tokens: number; at: number; expiresUs: number }
  | { kind: 'tat'; tat: number; expiresUs: number };

const ceilMs = (us: number) => (us <= 0 ? 0 : Math.ceil(us / 1000));

function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * The `onRedisError: 'memory'` stand-in: the same algorithms as the Lua scripts (same
 * formulas, same µs arithmetic) over a Map in this process, so limits hold per process
 * while Redis is away. Bounded: the least recently written keys go first.
 */
export class MemoryLimiter {
  private readonly states = new Map<string, State>();
  private readonly windowUs: number;

  constructor(
    private readonly config: LimiterConfig,
    private readonly clock: () => number = nowUs,
  ) {
    this.windowUs = config.window * 1000;
  }

  get size(): number {
    return this.states.size;
  }

  check(key: string, cost: number, write: boolean): Answer {
    const now = this.clock();
    let state = this.states.get(key);
    if (state && state.expiresUs <= now) {
      this.states.delete(key);
      state = undefined;
    }
    switch (this.config.algorithm) {
      case 'fixed-window':
        return this.fixed(key, state, now, cost, write, false);
      case 'sliding-window-approx':
        return this.fixed(key, state, now, cost, write, true);
      case 'sliding-window':
        return this.sliding(key, state, now, cost, write);
      case 'token-bucket':
        return this.bucket(key, state, now, cost, write);
      case 'gcra':
        return this.gcra(key, state, now, cost, write);
    }
  }

  reset(key: string): void {
    this.states.delete(key);
  }

  private store(key: string, state: State): void {
    this.states.delete(key);
    this.states.set(key, state);
    if (this.states.size > this.config.memoryMaxKeys) {
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
  }

  private fixed(
    key: string,
    state: State | undefined,
    now: number,
    cost: number,
    write: boolean,
    weighted: boolean,
  ): Answer {
    const { limit } = this.config;
    const w = this.windowUs;
    const index = Math.floor(now / w);
    const start = index * w;
    let cur = 0;
    let prev = 0;
    if (state?.kind === 'count') {
      if (state.index === index) {
        cur = state.cur;
        prev = state.prev;
      } else if (state.index === index - 1) prev = state.cur;
    }
    if (!weighted) {
      const reset = ceilMs(start + w - now);
      if (cur + cost > limit) return [0, limit - cur, reset, reset];
      if (write) {
        cur += cost;
        this.store(key, { kind: 'count', index, cur, prev: 0, expiresUs: start + w });
      }
      return [1, limit - cur, cur === 0 ? 0 : reset, 0];
    }
    let estimate = (prev * (w - (now - start))) / w + cur;
    if (estimate + cost > limit) {
      let wait: number;
      if (cur + cost <= limit) wait = start + w - ((limit - cur - cost) * w) / prev - now;
      else {
        const e = cur > 0 ? Math.max(0, w - ((limit - cost) * w) / cur) : 0;
        wait = start + w + e - now;
      }
      const reset = start + w - now + (cur > 0 ? w : 0);
      return [0, Math.max(0, Math.floor(limit - estimate)), ceilMs(reset), ceilMs(wait)];
    }
    if (write) {
      cur += cost;
      estimate += cost;
      this.store(key, { kind: 'count', index, cur, prev, expiresUs: start + 2 * w });
    }
    const reset = cur > 0 ? start + 2 * w - now : prev > 0 ? start + w - now : 0;
    return [1, Math.max(0, Math.floor(limit - estimate)), ceilMs(reset), 0];
  }

  private sliding(key: string, state: State | undefined, now: number, cost: number, write: boolean): Answer {
    const { limit } = this.config;
    const w = this.windowUs;
    const hits = state?.kind === 'hits' ? state.hits : [];
    // Hits are in time order: drop those at or before now - W.
    let drop = 0;
    while (drop < hits.length && hits[drop]! <= now - w) drop++;
    const live = drop > 0 ? hits.slice(drop) : hits;
    const used = live.length;
    const leaves = (rank: number) => (live[rank] === undefined ? 0 : live[rank]! + w - now);
    if (used + cost > limit) {
      return [0, limit - used, ceilMs(leaves(used - 1)), ceilMs(leaves(used + cost - limit - 1))];
    }
    if (!write) return [1, limit - used, used > 0 ? ceilMs(leaves(used - 1)) : 0, 0];
    for (let j = 0; j < cost; j++) live.push(now);
    this.store(key, { kind: 'hits', hits: live, expiresUs: now + w });
    return [1, limit - used - cost, ceilMs(w), 0];
  }

  private bucket(key: string, state: State | undefined, now: number, cost: number, write: boolean): Answer {
    const { limit, capacity } = this.config;
    const perToken = this.windowUs / limit;
    let tokens = capacity;
    if (state?.kind === 'tokens') {
      tokens = Math.min(capacity, state.tokens + Math.max(0, now - state.at) / perToken);
    }
    if (tokens + 1e-9 < cost) {
      return [
        0,
        Math.floor(tokens + 1e-9),
        ceilMs((capacity - tokens) * perToken),
        ceilMs((cost - tokens) * perToken),
      ];
    }
    if (write) {
      tokens = Math.max(0, tokens - cost);
      const full = (capacity - tokens) * perToken;
      this.store(key, { kind: 'tokens', tokens, at: now, expiresUs: now + full + 1000 });
    }
    return [1, Math.floor(tokens + 1e-9), ceilMs((capacity - tokens) * perToken), 0];
  }

  private gcra(key: string, state: State | undefined, now: number, cost: number, write: boolean): Answer {
    const { limit, capacity: burst } = this.config;
    const period = this.windowUs / limit;
    const capacity = burst * period;
    let tat = state?.kind === 'tat' ? state.tat : 0;
    if (tat < now) tat = now;
    const next = Math.ceil(tat + cost * period);
    const remaining = (t: number) => Math.max(0, Math.floor((capacity + burst - (t - now)) / period));
    if (next - now > capacity + burst) {
      return [0, remaining(tat), ceilMs(tat - now), ceilMs(next - now - capacity)];
    }
    if (write) {
      tat = next;
      this.store(key, { kind: 'tat', tat, expiresUs: tat + 1000 });
    }
    return [1, remaining(tat), ceilMs(tat - now), 0];
  }
}
