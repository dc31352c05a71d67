/**
 * One measurement in a fresh process: `--lib <lib> --case <case> --url <redis>`.
 * Prints `{"ok":true,"figures":{...}}` (read by bench/child.ts) as its last line.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { redisCpuSeconds } from '../redis-info.js';
import type { CacheFigures, Case } from './cases.js';
import { type Lib, openCache } from './libs.js';

const KEYS = 1_000;
const CALLERS = 100;
const WINDOW_MS = Number(process.env.BENCH_CACHE_WINDOW_MS ?? 1_500);
const WARMUP_MS = 300;
const key = (i: number) => `item:${i % KEYS}`;
const value = (i: number) => ({ id: i, name: `item ${i}`, tags: ['a', 'b', 'c'], price: 12.5 });

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`--${name} is required`);
  return v;
}

/** `callers` loops each calling `op` until `ms` have passed; returns calls made. */
async function loop(callers: number, ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + ms;
  let calls = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      // Callers start at different keys and stride differently, so they collide but not in lockstep.
      let i = c * 37;
      while (performance.now() < end) {
        await op(i);
        i += 7 + (c % 5);
        calls++;
      }
    }),
  );
  return calls;
}

/** Runs `fn` (which returns the calls it made) and reports its rate and CPU per call. */
async function timed(admin: Redis, fn: () => Promise<number>): Promise<CacheFigures> {
  const redis0 = await redisCpuSeconds(admin);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const calls = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const redisUs = ((await redisCpuSeconds(admin)) - redis0) * 1e6;
  return {
    rate: calls / seconds,
    calls,
    nodeUsPerCall: (cpu.user + cpu.system) / Math.max(1, calls),
    redisUsPerCall: redisUs / Math.max(1, calls),
  };
}

async function main(): Promise<CacheFigures> {
  const lib = arg('lib') as Lib;
  const which = arg('case') as Case;
  const url = arg('url');
  const memory = which === 'mem-get' || which === 'getorset-mem';
  const cache = await openCache(lib, url, memory);
  const admin = new Redis(url);
  try {
    if (which === 'mem-get' || which === 'redis-get') {
      for (let i = 0; i < KEYS; i++) await cache.set(key(i), value(i));
      const callers = which === 'mem-get' ? 1 : CALLERS;
      await loop(callers, WARMUP_MS, (i) => cache.get(key(i)));
      return await timed(admin, () => loop(callers, WINDOW_MS, (i) => cache.get(key(i))));
    }
    // getOrSet from cold keys: 100 callers contend for 1,000 keys; the loader answers at once.
    let loaderCalls = 0;
    const figures = await timed(admin, () =>
      loop(CALLERS, WINDOW_MS, (i) =>
        cache.getOrSet(key(i), () => {
          loaderCalls++;
          return value(i % KEYS);
        }),
      ),
    );
    return { ...figures, loaderCalls };
  } finally {
    admin.disconnect();
    await cache.close();
  }
}

main().then(
  (figures) => {
    console.log(JSON.stringify({ ok: true, figures }));
    process.exit(0);
  },
  (err: Error) => {
    console.log(JSON.stringify({ ok: false, error: err.message }));
    process.exit(0);
  },
);
