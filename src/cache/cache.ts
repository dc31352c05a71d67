import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redactError } from '../redis/redact.js';
import { ValidationError } from '../util/errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { within } from '../util/within.js';
import { Bus, type BusMessage } from './bus.js';
import { createCommandClient, createSubscriberClient } from './clients.js';
import { decode, type Entry, encode, makeEntry, serialise, staleWindow } from './entry.js';
import { CacheClosedError, LoaderTimeoutError } from './errors.js';
import { type Loader, runLoader } from './loader.js';
import { MemoryTier } from './memory.js';
import {
  type CacheOptions,
  checkKey,
  checkNamespace,
  type GetOrSetOptions,
  type Policy,
  resolvePolicy,
  resolveSettings,
  type SetOptions,
  type Settings,
} from './options.js';
import { ReadBatcher } from './read-batcher.js';
import { RedisTier } from './redis-tier.js';
import { type CacheStats, emptyStats } from './stats.js';
import { checkTag, type TagStamp } from './tags.js';
import { Waiters } from './waiters.js';

/** Longest pause between two looks at Redis while another process loads a key. */
const MAX_POLL_MS = 200;
/** Repeated warnings (Redis down) are logged at most this often. */
const WARN_EVERY_MS = 5_000;

/**
 * A read-through cache: memory tier, then Redis, then the loader. See docs/cache.md.
 * Reads never fail because Redis is down (memory and loader keep serving); writes
 * (set, delete, clear) reject then, because other instances would not see them.
 */
export class Cache {
  readonly namespace: string;
  private readonly settings: Settings;
  private readonly client: Redis;
  private readonly tier: RedisTier;
  private readonly reads: ReadBatcher;
  private readonly bus: Bus;
  private readonly memory: MemoryTier | undefined;
  private readonly logger: Logger;
  private readonly inflight = new Map<string, Promise<Entry>>();
  private readonly waiters = new Waiters();
  private readonly counts = emptyStats();
  /** Bumped by every invalidation from elsewhere: a read that overlapped one is not kept in memory. */
  private invalidations = 0;
  private everReady = false;
  private closed = false;
  /**
   * Loader-lock tokens only need to be unique among holders: a random prefix per instance and
   * a counter. Measured: randomBytes(12) per getOrSet cost ~2.3 µs, 15% of a warm Redis-tier call.
   */
  private readonly tokenPrefix = randomBytes(12).toString('base64');
  private tokens = 0;
  private lastWarn = new Map<string, number>();
  /** Writes made here, for versions. */
  private writes = 0;

  constructor(options: CacheOptions = {}) {
    this.settings = resolveSettings(options);
    this.namespace = this.settings.namespace;
    this.logger = options.logger ?? defaultLogger('hopper:cache');
    const mem = this.settings.memory;
    this.memory = mem ? new MemoryTier(mem.maxEntries, mem.maxBytes) : undefined;
    this.client = createCommandClient(options.connection);
    this.client.on('ready', () => {
      this.everReady = true;
    });
    this.client.on('error', (err) => this.warn('redis', 'Redis connection error', err));
    this.tier = new RedisTier(this.client, this.settings.prefix, this.namespace);
    this.reads = new ReadBatcher(this.tier, this.settings.lockTtl);
    const sub = createSubscriberClient(options.connection);
    sub.on('error', (err) => this.warn('bus', 'Redis subscriber connection error', err));
    this.bus = new Bus(
      sub,
      this.tier.keys.channel,
      (m) => this.onBus(m),
      () => {
        // Invalidations sent while we were disconnected are lost: forget everything local.
        this.memory?.clear();
        this.invalidations++;
      },
    );
  }

  /** Resolves once the command connection is up and the invalidation bus is subscribed. */
  async ready(): Promise<void> {
    await this.bus.subscribed;
    await this.client.ping();
  }

  /** A fresh value from memory or Redis, else undefined. Stale values are only served by getOrSet. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key);
    this.open();
    const now = Date.now();
    if (this.memory) {
      const e = this.memory.get(key, now);
      if (e && now < e.freshUntil) {
        this.counts.memory.hits++;
        return JSON.parse(e.json) as T;
      }
      this.counts.memory.misses++;
    }
    if (!this.redisUsable()) return undefined;
    const seq = this.invalidations;
    let e: Entry | undefined;
    try {
      const [raw, pttl] = await this.reads.read(key);
      e = raw ? await decode(raw, pttl, Date.now()) : undefined;
      if (e?.tags) [e] = await this.tagChecked([key], [raw], [e]);
    } catch (err) {
      this.redisFailed(err);
      return undefined;
    }
    if (e && Date.now() < e.freshUntil) {
      this.counts.redis.hits++;
      this.remember(key, e, seq);
      return JSON.parse(e.json) as T;
    }
    this.counts.redis.misses++;
    return undefined;
  }

  /** Fresh values for many keys, in order (undefined for misses); the Redis tier is asked once for all misses. */
  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    for (const k of keys) checkKey(k, 'keys');
    this.open();
    const out: (T | undefined)[] = new Array(keys.length).fill(undefined);
    const missing: number[] = [];
    const now = Date.now();
    keys.forEach((key, i) => {
      const e = this.memory?.get(key, now);
      if (e && now < e.freshUntil) {
        this.counts.memory.hits++;
        out[i] = JSON.parse(e.json) as T;
      } else {
        if (this.memory) this.counts.memory.misses++;
        missing.push(i);
      }
    });
    if (missing.length === 0 || !this.redisUsable()) return out;
    const seq = this.invalidations;
    let triples: (Buffer | null | number)[];
    try {
      const misses = missing.map((i) => keys[i]!);
      triples = await this.tier.read(
        misses,
        misses.map(() => ''),
        this.settings.lockTtl,
      );
    } catch (err) {
      this.redisFailed(err);
      return out;
    }
    const at = Date.now();
    const raws = missing.map((_, j) => triples[3 * j] as Buffer | null);
    let found: (Entry | undefined)[] = [];
    for (let j = 0; j < missing.length; j++)
      found.push(raws[j] ? await decode(raws[j]!, triples[3 * j + 1] as number, at) : undefined);
    try {
      found = await this.tagChecked(
        missing.map((i) => keys[i]!),
        raws,
        found,
      );
    } catch (err) {
      this.redisFailed(err);
      return out;
    }
    for (let j = 0; j < missing.length; j++) {
      const i = missing[j]!;
      const e = found[j];
      if (e && at < e.freshUntil) {
        this.counts.redis.hits++;
        this.remember(keys[i]!, e, seq);
        out[i] = JSON.parse(e.json) as T;
      } else this.counts.redis.misses++;
    }
    return out;
  }

  /** Writes both tiers and evicts the key from every other instance's memory tier. */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    checkKey(key);
    const policy = resolvePolicy(this.settings.defaults, options);
    const json = serialise(value);
    this.open();
    const version = this.nextVersion();
    const seq = this.invalidations;
    let stamps: TagStamp[] | undefined;
    try {
      stamps = await this.stamp(policy);
    } catch (err) {
      this.memory?.delete(key);
      throw this.redisFailed(err);
    }
    const entry = makeEntry(json, policy, Date.now(), version, stamps);
    const payload = await encode(json, staleWindow(policy), this.settings.compressAbove, version, stamps);
    try {
      await this.tier.set(
        key,
        payload,
        policy.ttl + staleWindow(policy),
        this.bus.message('s', this.namespace, key, version),
      );
    } catch (err) {
      // Our memory must not keep a value the other instances cannot see.
      this.memory?.delete(key);
      throw this.redisFailed(err);
    }
    this.keep(key, entry, seq);
  }

  /**
   * Cache warming: writes many entries, as `set` each (both tiers, other instances' memory
   * evicted). Every key and value is checked first, so bad input writes nothing; the writes
   * then go out together (concurrent commands share the connection's round trips).
   */
  async setMany(entries: readonly { key: string; value: unknown; options?: SetOptions }[]): Promise<void> {
    if (!Array.isArray(entries))
      throw new ValidationError('entries', 'must be an array of { key, value, options? }');
    entries.forEach((e, i) => {
      checkKey(e?.key, `entries[${i}].key`);
      const rename = (err: unknown, at: string) => {
        if (!(err instanceof ValidationError)) return err;
        return new ValidationError(`${at}.${err.field}`, err.message.slice(err.field.length + 2));
      };
      try {
        resolvePolicy(this.settings.defaults, e.options);
      } catch (err) {
        throw rename(err, `entries[${i}].options`);
      }
      try {
        serialise(e.value);
      } catch (err) {
        throw rename(err, `entries[${i}]`);
      }
    });
    await Promise.all(entries.map((e) => this.set(e.key, e.value, e.options)));
  }

  /** Removes the key from both tiers here and from every other instance's memory tier. */
  async delete(key: string): Promise<boolean> {
    checkKey(key);
    this.open();
    const local = this.memory?.delete(key) ?? false;
    try {
      return (await this.tier.delete(key, this.bus.message('d', this.namespace, key))) || local;
    } catch (err) {
      throw this.redisFailed(err);
    }
  }

  /**
   * Every entry written with `tag` (set, setMany or getOrSet `tags`) reads as absent from now
   * on, here and in every other instance (their memory tiers drop it over the bus). A write
   * racing this call cannot leave its value readable: see tags.ts (generations).
   */
  async invalidateTag(tag: string): Promise<void> {
    checkTag(tag);
    this.open();
    this.dropLocal(() => this.memory?.deleteTag(tag));
    try {
      await this.tier.tags.invalidate(
        tag,
        this.tier.keys.channel,
        this.bus.message('g', this.namespace, tag),
      );
    } catch (err) {
      throw this.redisFailed(err);
    }
    // A read that checked the old generation while the bump was in flight must not stay in memory.
    this.dropLocal(() => this.memory?.deleteTag(tag));
  }

  /**
   * Removes every key of this namespace starting with `prefix` from Redis (SCAN in pages,
   * every master of a Cluster) and from every instance's memory tier. Returns the count of
   * values removed from Redis. Not atomic across keys: a set landing while the scan runs may
   * stay (it counts as after the invalidation); a getOrSet load in flight writes nothing.
   */
  async invalidatePrefix(prefix: string): Promise<number> {
    checkKey(prefix, 'prefix');
    this.open();
    this.dropLocal(() => this.memory?.deletePrefix(prefix));
    try {
      const removed = await this.tier.clearPrefix(prefix);
      await this.tier.publish(this.bus.message('p', this.namespace, prefix));
      this.dropLocal(() => this.memory?.deletePrefix(prefix));
      return removed;
    } catch (err) {
      throw this.redisFailed(err);
    }
  }

  /**
   * The cached value, or the loader's, loaded once per key at a time across every process
   * sharing the Redis server. Throws LoaderError / LoaderTimeoutError when the loader fails
   * and no value within `grace` is left to serve.
   */
  async getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions): Promise<T> {
    checkKey(key);
    const policy = resolvePolicy(this.settings.defaults, options);
    this.open();
    const now = Date.now();
    let stale: Entry | undefined;
    if (this.memory) {
      const e = this.memory.get(key, now);
      if (e && now < e.freshUntil) {
        this.counts.memory.hits++;
        return JSON.parse(e.json) as T;
      }
      this.counts.memory.misses++;
      stale = e;
      if (e && now < e.freshUntil + policy.swr) {
        this.counts.served.stale++;
        this.refresh(key, loader as Loader<unknown>, policy);
        return JSON.parse(e.json) as T;
      }
    }
    let shared = this.inflight.get(key);
    if (!shared) {
      const p = this.resolve(key, loader as Loader<unknown>, policy, stale);
      shared = p;
      this.inflight.set(key, p);
      p.then(
        () => this.settled(key, p),
        () => this.settled(key, p),
      );
    }
    return JSON.parse((await shared).json) as T;
  }

  /** Removes every key of `namespace` (default: this cache's) by SCAN, and empties those memory tiers. */
  async clear(namespace: string = this.namespace): Promise<number> {
    checkNamespace(namespace);
    this.open();
    if (namespace === this.namespace) this.memory?.clear();
    try {
      const removed = await this.tier.clear(this.settings.prefix, namespace);
      await this.tier.publish(this.bus.message('c', namespace, ''));
      return removed;
    } catch (err) {
      throw this.redisFailed(err);
    }
  }

  stats(): CacheStats {
    const s = structuredClone(this.counts);
    s.memory.entries = this.memory?.size ?? 0;
    s.memory.bytes = this.memory?.bytes ?? 0;
    return s;
  }

  /** Lets running loads finish (briefly), then closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await within(Promise.allSettled([...this.inflight.values()]), 1_000);
    this.waiters.wakeAll();
    await this.bus.close();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  // --- getOrSet internals ---

  private nextToken(): string {
    return this.tokenPrefix + (++this.tokens).toString(36);
  }

  private settled(key: string, p: Promise<Entry>): void {
    if (this.inflight.get(key) === p) this.inflight.delete(key);
  }

  /** Background refresh for stale-while-revalidate; one per key, errors only logged. */
  private refresh(key: string, loader: Loader<unknown>, policy: Policy, token?: string, stale?: Entry): void {
    if (this.closed) return;
    if (this.inflight.has(key)) {
      if (token) this.tier.unlock(key, token, this.bus.message('u', this.namespace, key)).catch(() => {});
      return;
    }
    // A refresh must load, not serve stale again; what it writes keeps the policy's stale window.
    const p = token
      ? this.load(key, loader, policy, stale, token, true)
      : this.resolve(key, loader, policy, stale, false);
    this.inflight.set(key, p);
    p.then(
      () => this.settled(key, p),
      (err) => {
        this.settled(key, p);
        this.warn('refresh', `background refresh of "${key}" failed`, err);
      },
    );
  }

  /** Memory missed: Redis (taking the loader lock if the value is not fresh), then load or wait. */
  private async resolve(
    key: string,
    loader: Loader<unknown>,
    policy: Policy,
    stale: Entry | undefined,
    serveStale = true,
  ): Promise<Entry> {
    if (!this.redisUsable()) return this.load(key, loader, policy, stale, undefined, false);
    const token = this.nextToken();
    const seq = this.invalidations;
    let locked: boolean;
    try {
      const r = await this.readRedis(key, token, stale, seq);
      if (r.fresh) return r.fresh;
      this.counts.redis.misses++;
      stale = r.stale;
      locked = r.locked;
    } catch (err) {
      this.redisFailed(err);
      return this.load(key, loader, policy, stale, undefined, false);
    }
    if (serveStale && stale && Date.now() < stale.freshUntil + policy.swr) {
      const s = stale;
      this.counts.served.stale++;
      this.remember(key, s, seq);
      // After this promise settles and leaves `inflight`, so the refresh can take its place.
      setImmediate(() => this.refresh(key, loader, policy, locked ? token : undefined, s));
      return s;
    }
    if (locked) return this.load(key, loader, policy, stale, token, true);
    return this.waitForHolder(key, loader, policy, stale, token);
  }

  /**
   * One batched Redis read of `key`: a fresh value (counted as a hit and kept in
   * memory unless invalidated since `seq`), or the better of the stale values and
   * whether this caller now holds the loader lock.
   */
  private async readRedis(
    key: string,
    token: string,
    stale: Entry | undefined,
    seq: number,
  ): Promise<{ fresh?: Entry; stale: Entry | undefined; locked: boolean }> {
    let [raw, pttl, took] = await this.reads.read(key, token);
    let e = raw ? await decode(raw, pttl, Date.now()) : undefined;
    if (e?.tags) {
      [e] = await this.tagChecked([key], [raw], [e]);
      // Invalidated by tag and now removed: read again, so the loader lock can be taken.
      if (!e && took !== 1) {
        [raw, pttl, took] = await this.reads.read(key, token);
        e = raw ? await decode(raw, pttl, Date.now()) : undefined;
        if (e?.tags) [e] = await this.tagChecked([key], [raw], [e]);
      }
    }
    const now = Date.now();
    if (e && now < e.freshUntil) {
      this.counts.redis.hits++;
      this.remember(key, e, seq);
      return { fresh: e, stale, locked: false };
    }
    const better = e && (!stale || e.keepUntil > stale.keepUntil) ? e : stale;
    return { stale: better, locked: took === 1 };
  }

  /**
   * Another process holds the key's loader lock: wait for its value (woken by the bus,
   * polling as a fallback), take the lock if it is released or lapses (a dead holder),
   * and past every deadline load without it rather than wait forever.
   */
  private async waitForHolder(
    key: string,
    loader: Loader<unknown>,
    policy: Policy,
    stale: Entry | undefined,
    token: string,
  ): Promise<Entry> {
    const deadline = Date.now() + this.settings.loaderTimeout + this.settings.lockTtl;
    let pause = 10;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.waiters.wait(key, Math.min(pause, left));
      pause = Math.min(pause * 2, MAX_POLL_MS);
      let locked: boolean;
      try {
        const r = await this.readRedis(key, token, stale, this.invalidations);
        if (r.fresh) return r.fresh;
        stale = r.stale;
        locked = r.locked;
      } catch (err) {
        this.redisFailed(err);
        return this.load(key, loader, policy, stale, undefined, false);
      }
      if (locked) return this.load(key, loader, policy, stale, token, true);
    }
    this.warn('wait', `gave up waiting for another process to load "${key}"; loading here`);
    return this.load(key, loader, policy, stale, undefined, true);
  }

  /**
   * Calls the loader, then writes its value (releasing the lock in the same script).
   * On failure: the stale value if still within grace, else the LoaderError; the lock is
   * released and nothing is written.
   */
  private async load(
    key: string,
    loader: Loader<unknown>,
    policy: Policy,
    stale: Entry | undefined,
    token: string | undefined,
    useRedis: boolean,
  ): Promise<Entry> {
    this.counts.loader.calls++;
    const seq = this.invalidations;
    let stamps: TagStamp[] | undefined;
    if (policy.tags) {
      // Generations are read before the loader runs: an invalidation during the load marks its value stale.
      try {
        stamps = useRedis ? await this.stamp(policy) : policy.tags.map((t) => [t, -1]);
      } catch (err) {
        this.redisFailed(err);
        stamps = policy.tags.map((t) => [t, -1]);
        if (token !== undefined && useRedis)
          this.tier.unlock(key, token, this.bus.message('u', this.namespace, key)).catch(() => {});
        useRedis = false;
      }
    }
    const holding = token !== undefined && useRedis;
    const renew = holding
      ? setInterval(
          () => this.tier.extendLock(key, token, this.settings.lockTtl).catch(() => {}),
          Math.max(1, Math.floor(this.settings.lockTtl / 3)),
        )
      : undefined;
    let json: string;
    try {
      json = serialise(await runLoader(loader, key, this.settings.loaderTimeout));
    } catch (err) {
      if (err instanceof LoaderTimeoutError) this.counts.loader.timeouts++;
      else this.counts.loader.errors++;
      if (holding) this.tier.unlock(key, token, this.bus.message('u', this.namespace, key)).catch(() => {});
      const now = Date.now();
      if (stale && now < stale.freshUntil + policy.grace && now < stale.keepUntil) {
        this.counts.served.graced++;
        this.warn('grace', `loader for "${key}" failed; serving the value within grace`, err);
        return stale;
      }
      throw err;
    } finally {
      clearInterval(renew);
    }
    const version = this.nextVersion();
    const entry = makeEntry(json, policy, Date.now(), version, stamps);
    if (useRedis) {
      try {
        const payload = await encode(json, staleWindow(policy), this.settings.compressAbove, version, stamps);
        const written = await this.tier.fill(
          key,
          payload,
          policy.ttl + staleWindow(policy),
          token ?? '',
          this.bus.message('s', this.namespace, key, version),
        );
        // A set or delete landed during the load: the caller gets its value, the caches keep theirs.
        if (!written) return entry;
      } catch (err) {
        // The value is still good for this caller and this process; others will load their own.
        this.redisFailed(err);
      }
    }
    this.keep(key, entry, seq);
    return entry;
  }

  // --- helpers ---

  /** The tags' current generations for a write with `policy` (none if untagged). */
  private stamp(policy: Policy): Promise<TagStamp[] | undefined> {
    if (!policy.tags) return Promise.resolve(undefined);
    return this.tier.tags.touch(policy.tags, policy.ttl + staleWindow(policy));
  }

  /**
   * Entries read from Redis, with those whose tags were invalidated since they were written
   * turned into misses (and removed from Redis, unless rewritten meanwhile).
   */
  private async tagChecked(
    keys: readonly string[],
    raws: readonly (Buffer | null)[],
    entries: (Entry | undefined)[],
  ): Promise<(Entry | undefined)[]> {
    if (!entries.some((e) => e?.tags)) return entries;
    const ok = await this.tier.tags.valid(entries.map((e) => e?.tags));
    return Promise.all(
      entries.map(async (e, i) => {
        if (!e || ok[i]) return e;
        await this.tier.dropStale(keys[i]!, raws[i]!).catch(() => {});
        return undefined;
      }),
    );
  }

  /** A value written here goes to memory, unless it is tagged and an invalidation came since `seq`. */
  private keep(key: string, entry: Entry, seq: number): void {
    if (!entry.tags || seq === this.invalidations) this.memory?.set(key, entry);
    else this.memory?.delete(key);
  }

  /** Drops memory entries and marks reads in flight as not to be kept. */
  private dropLocal(drop: () => void): void {
    drop();
    this.invalidations++;
  }

  private onBus(m: BusMessage): void {
    if (m.namespace !== this.namespace) return;
    if (m.op === 'g' || m.op === 'p') {
      if (!m.fromSelf)
        this.dropLocal(() =>
          m.op === 'g' ? this.memory?.deleteTag(m.key) : this.memory?.deletePrefix(m.key),
        );
      return;
    }
    if (m.op === 'c') {
      if (!m.fromSelf) {
        this.memory?.clear();
        this.invalidations++;
      }
      this.waiters.wakeAll();
      return;
    }
    if (!m.fromSelf && m.op !== 'u') {
      // A copy of the very value this write made (read from Redis before its message came)
      // stays; any other copy is older, or too close to tell, and goes.
      if (m.op === 'd' || this.memory?.versionOf(m.key) !== m.version) this.memory?.delete(m.key);
      this.invalidations++;
    }
    this.waiters.wake(m.key);
  }

  private nextVersion(): string {
    return `${this.bus.id}.${(++this.writes).toString(36)}`;
  }

  /** Keeps a value read from Redis in memory, unless an invalidation arrived while it was read. */
  private remember(key: string, e: Entry, seq: number): void {
    if (this.memory && seq === this.invalidations) this.memory.set(key, e);
  }

  /** Before the first connection commands queue; once it was up, a down Redis is skipped at once. */
  private redisUsable(): boolean {
    return this.client.status === 'ready' || !this.everReady;
  }

  private open(): void {
    if (this.closed) throw new CacheClosedError('the cache is closed');
  }

  private redisFailed(err: unknown): Error {
    this.counts.redis.errors++;
    const clean = redactError(err);
    this.warn('redis', 'Redis command failed; serving from memory and the loader', clean);
    return clean;
  }

  private warn(kind: string, message: string, err?: unknown): void {
    const now = Date.now();
    if (now - (this.lastWarn.get(kind) ?? 0) < WARN_EVERY_MS) return;
    this.lastWarn.set(kind, now);
    this.logger.warn({ err: err === undefined ? undefined : redactError(err) }, message);
  }
}
