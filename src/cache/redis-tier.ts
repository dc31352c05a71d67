import type { Redis } from 'ioredis';
import { isCluster } from '../redis/connection.js';
import { scanKeys, unlinkKeys } from '../redis/scan.js';
import { defineScripts } from '../redis/scripts.js';
import { groupBySlot } from '../redis/slots.js';
import { CacheKeys, keyPrefixPattern, namespacePattern } from './keys.js';
import { cacheScripts } from './scripts.js';
import { TagStore } from './tags.js';

type Raw = Buffer | null;
type ScriptFn = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/** The Redis tier: one script call (one round trip) per operation; values read as Buffers. */
export class RedisTier {
  readonly keys: CacheKeys;
  readonly tags: TagStore;
  private readonly bySlot: boolean;

  constructor(
    readonly client: Redis,
    prefix: string,
    namespace: string,
  ) {
    this.keys = new CacheKeys(prefix, namespace);
    this.bySlot = isCluster(client);
    defineScripts(client, cacheScripts);
    this.tags = new TagStore(client, this.keys, this.bySlot);
  }

  /** `name` for replies as strings/numbers, `nameBuffer` (ioredis' variant) to keep values binary. */
  private script(name: string): ScriptFn {
    const fn = (this.client as unknown as Record<string, ScriptFn>)[name];
    if (!fn) throw new Error(`script ${name} is not defined on this client`);
    return fn.bind(this.client);
  }

  /**
   * One round trip for many keys: flat triples of value, pttl and 1 if the lock was taken.
   * An empty token reads without locking.
   */
  async read(keys: readonly string[], tokens: readonly string[], lockTtl: number): Promise<(Raw | number)[]> {
    if (this.bySlot) return this.readBySlot(keys, tokens, lockTtl);
    return this.readOne(keys, tokens, lockTtl);
  }

  /** On a Cluster one call may only touch one slot: one call per slot, in parallel, replies put back in order. */
  private async readBySlot(keys: readonly string[], tokens: readonly string[], lockTtl: number) {
    const groups = groupBySlot(
      keys.map((_, i) => i),
      (i) => this.keys.value(keys[i]!),
    );
    if (groups.length === 1) return this.readOne(keys, tokens, lockTtl);
    const out = new Array<Raw | number>(keys.length * 3);
    await Promise.all(
      groups.map(async (group) => {
        const flat = await this.readOne(
          group.map((i) => keys[i]!),
          group.map((i) => tokens[i]!),
          lockTtl,
        );
        group.forEach((i, j) => {
          for (let t = 0; t < 3; t++) out[3 * i + t] = flat[3 * j + t]!;
        });
      }),
    );
    return out;
  }

  private async readOne(keys: readonly string[], tokens: readonly string[], lockTtl: number) {
    const redisKeys: string[] = [];
    for (const k of keys) redisKeys.push(this.keys.value(k), this.keys.lock(k));
    return (await this.script('cache:readBuffer')(redisKeys.length, ...redisKeys, lockTtl, ...tokens)) as (
      | Raw
      | number
    )[];
  }

  async set(key: string, payload: string | Buffer, lifeMs: number, message: string): Promise<void> {
    await this.script('cache:set')(
      2,
      this.keys.value(key),
      this.keys.lock(key),
      payload,
      lifeMs,
      this.keys.channel,
      message,
    );
  }

  /** Resolves false when a set or delete during the load took the lock away: nothing was written. */
  async fill(key: string, payload: string | Buffer, lifeMs: number, token: string, message: string) {
    const written = await this.script('cache:fill')(
      2,
      this.keys.value(key),
      this.keys.lock(key),
      payload,
      lifeMs,
      token,
      this.keys.channel,
      message,
    );
    return written === 1;
  }

  async delete(key: string, message: string): Promise<boolean> {
    return (
      ((await this.script('cache:delete')(
        2,
        this.keys.value(key),
        this.keys.lock(key),
        this.keys.channel,
        message,
      )) as number) > 0
    );
  }

  async unlock(key: string, token: string, message: string): Promise<void> {
    await this.script('cache:unlock')(1, this.keys.lock(key), token, this.keys.channel, message);
  }

  async extendLock(key: string, token: string, lockTtl: number): Promise<void> {
    await this.script('cache:extend-lock')(1, this.keys.lock(key), token, lockTtl);
  }

  /** SCAN (never KEYS) with the namespace's escaped pattern, UNLINK per page. Returns keys removed. */
  async clear(prefix: string, namespace: string): Promise<number> {
    const pattern = namespacePattern(prefix, namespace);
    let removed = 0;
    await scanKeys(this.client, pattern, async (found) => {
      removed += await unlinkKeys(this.client, found);
    });
    return removed;
  }

  /**
   * Prefix invalidation: SCAN (pages of 1,000, every master on a Cluster) for the value and
   * loader-lock keys of user keys starting with `keyPrefix`, UNLINK per page. Removing the
   * lock makes a load in flight for such a key write nothing (fill.lua). Returns values removed.
   */
  async clearPrefix(keyPrefix: string): Promise<number> {
    const pattern = keyPrefixPattern(this.keys.prefix, this.keys.namespace, keyPrefix);
    const valueHead = `${this.keys.prefix}:${this.keys.namespace}:v:`;
    let removed = 0;
    await scanKeys(this.client, pattern, async (found) => {
      const values = found.filter((k) => k.startsWith(valueHead));
      const locks = found.filter((k) => !k.startsWith(valueHead));
      // Values counted, locks are bookkeeping.
      const [n] = await Promise.all([unlinkKeys(this.client, values), unlinkKeys(this.client, locks)]);
      removed += n;
    });
    return removed;
  }

  /** Removes an entry a reader found invalidated by tag, unless a newer write replaced it. */
  async dropStale(key: string, raw: Buffer): Promise<void> {
    await this.script('cache:drop-stale')(1, this.keys.value(key), raw);
  }

  async publish(message: string): Promise<void> {
    await this.client.publish(this.keys.channel, message);
  }
}
