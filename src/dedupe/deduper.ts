import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient } from '../redis/connection.js';
import { ValidationError } from '../util/errors.js';

/** Longest dedup key, in bytes. */
export const MAX_DEDUPE_KEY_BYTES = 512;

export interface DeduperOptions {
  /** Redis URL or ioredis options; defaults to REDIS_URL, then redis://127.0.0.1:6379. */
  connection?: ConnectionOptions;
  /** Key prefix: keys are `<prefix>:<key>`. Default `hopper:dedupe`. */
  prefix?: string;
}

/**
 * Seed 003's first layer of duplicate suppression: "have we seen this key in the
 * last ttl ms?" answered by one SET NX PX, cluster-wide. It is a fast path, not a
 * guarantee: a key can expire or Redis can lose it (no persistence, failover),
 * so the write it guards should still be idempotent (a unique constraint, ON
 * CONFLICT DO NOTHING). See docs/architecture.md, "Dedup".
 */
export class Deduper {
  private readonly client: Redis;
  private readonly prefix: string;

  constructor(options: DeduperOptions = {}) {
    this.prefix = options.prefix ?? 'hopper:dedupe';
    this.client = createClient(options.connection, 'command');
    this.client.on('error', () => {}); // reconnects on its own; failed calls reject to the caller
  }

  /** True the first time `key` is claimed within `ttl` ms (the caller goes on); false for a duplicate. */
  async claim(key: string, ttl: number): Promise<boolean> {
    const k = this.key(key);
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0)
      throw new ValidationError('ttl', `must be a positive integer (ms), got ${String(ttl)}`);
    return (await this.client.set(k, '1', 'PX', ttl, 'NX')) === 'OK';
  }

  /** Forgets a claim, so the key can be claimed again (say, when the guarded write failed). */
  async release(key: string): Promise<void> {
    await this.client.del(this.key(key));
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private key(key: unknown): string {
    if (typeof key !== 'string' || key.length === 0)
      throw new ValidationError('key', 'must be a non-empty string');
    if (Buffer.byteLength(key) > MAX_DEDUPE_KEY_BYTES)
      throw new ValidationError('key', `must be at most ${MAX_DEDUPE_KEY_BYTES} bytes`);
    return `${this.prefix}:${key}`;
  }
}
