/**
 * The three caches behind one small interface, each configured as its users would:
 * Hopper's Cache, BentoCache (memory L1 + Redis L2 + Redis bus) and cache-manager 7
 * (its default in-memory Keyv store in front of a @keyv/redis store; Redis only when memory
 * is off), each with memory in front of Redis or Redis alone, as the case asks.
 */
import { createKeyv, Keyv } from '@keyv/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { pino } from 'pino';
import { Cache } from '../../src/cache/index.js';

export const LIBS = ['hopper', 'bentocache', 'cache-manager'] as const;
export type Lib = (typeof LIBS)[number];

export interface BenchCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  getOrSet(key: string, loader: () => unknown): Promise<unknown>;
  close(): Promise<void>;
}

const TTL_MS = 60_000;

function redisOptions(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

export async function openCache(lib: Lib, url: string, memory: boolean): Promise<BenchCache> {
  if (lib === 'hopper') {
    const c = new Cache({
      connection: url,
      memory: memory ? {} : false,
      ttl: TTL_MS,
      logger: pino({ level: 'silent' }),
    });
    await c.ready();
    return {
      get: (k) => c.get(k),
      set: (k, v) => c.set(k, v),
      getOrSet: (k, l) => c.getOrSet(k, l),
      close: () => c.close(),
    };
  }
  if (lib === 'bentocache') {
    let store = bentostore();
    if (memory) store = store.useL1Layer(memoryDriver({ maxItems: 10_000, maxSize: 64 * 1024 * 1024 }));
    store = store.useL2Layer(redisDriver({ connection: redisOptions(url) }));
    if (memory) store = store.useBus(redisBusDriver({ connection: redisOptions(url) }));
    const b = new BentoCache({ default: 'c', stores: { c: store } });
    return {
      get: (key) => b.get({ key }),
      set: async (key, value) => {
        await b.set({ key, value, ttl: TTL_MS });
      },
      getOrSet: (key, factory) => b.getOrSet({ key, factory, ttl: TTL_MS }),
      close: () => b.disconnectAll(),
    };
  }
  // cache-manager's multi-store setup from its README: stores are tried in order on get, all written on set.
  const redisStore = createKeyv(url);
  const m = createCache({ ttl: TTL_MS, stores: memory ? [new Keyv(), redisStore] : [redisStore] });
  return {
    get: (k) => m.get(k),
    set: async (k, v) => {
      await m.set(k, v);
    },
    getOrSet: (k, l) => m.wrap(k, l),
    close: async () => {
      await m.disconnect();
    },
  };
}
