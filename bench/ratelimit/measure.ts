/**
 * One rate-limit measurement in a fresh process (spawned by bench/ratelimit/run.ts):
 * IN_FLIGHT checks always outstanding over KEYS keys, WARMUP_MS then DURATION_MS measured.
 * Prints one JSON line: { ok, figures } or { ok: false, error }.
 * Args: --lib hopper|rlf --algorithm <a> --batch 1|0 --limit <n> --url <redis url>
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { type Algorithm, RateLimiter } from '../../src/ratelimit/index.js';
import { redisCpuSeconds } from '../redis-info.js';
import { DURATION_MS, IN_FLIGHT, KEYS, LIMIT, type LimitFigures, WARMUP_MS, WINDOW_MS } from './figures.js';

const { values } = parseArgs({
  options: {
    lib: { type: 'string' },
    algorithm: { type: 'string', default: 'fixed-window' },
    batch: { type: 'string', default: '1' },
    limit: { type: 'string', default: String(LIMIT) },
    url: { type: 'string' },
  },
});

type Check = (key: string) => Promise<boolean>;

async function setup(): Promise<{ check: Check; close: () => Promise<void> }> {
  const url = values.url!;
  if (values.lib === 'rlf') {
    const client = new Redis(url);
    // RLF's own default store: fixed window, one Lua call per check.
    const rlf = new RateLimiterRedis({
      storeClient: client,
      points: LIMIT,
      duration: WINDOW_MS / 1000,
      keyPrefix: 'rlf',
    });
    return {
      check: (key) =>
        rlf.consume(key).then(
          () => true,
          (err: unknown) => {
            if (err instanceof RateLimiterRes) return false;
            throw err;
          },
        ),
      close: async () => {
        client.disconnect();
      },
    };
  }
  const limiter = new RateLimiter({
    connection: url,
    algorithm: values.algorithm as Algorithm,
    limit: Number(values.limit),
    window: WINDOW_MS,
    batch: values.batch !== '0',
    timeoutMs: 5000,
  });
  return { check: (key) => limiter.limit(key).then((r) => r.allowed), close: () => limiter.close() };
}

async function main(): Promise<LimitFigures> {
  const { check, close } = await setup();
  const admin = new Redis(values.url!);
  await check('warm-up');
  let phase: 'warm' | 'measure' | 'done' = 'warm';
  let counter = 0;
  let allowed = 0;
  let done = 0;
  const latencies: number[] = [];
  const loop = async () => {
    while (phase !== 'done') {
      const key = `user:${counter++ % KEYS}`;
      const t = performance.now();
      const ok = await check(key);
      if (phase === 'measure') {
        latencies.push(performance.now() - t);
        done++;
        if (ok) allowed++;
      }
    }
  };
  const loops = Array.from({ length: IN_FLIGHT }, loop);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  phase = 'measure';
  const redis0 = await redisCpuSeconds(admin);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const measured = done;
  const redisUs = ((await redisCpuSeconds(admin)) - redis0) * 1e6;
  admin.disconnect();
  phase = 'done';
  await Promise.all(loops);
  await close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  return {
    checksPerSec: (measured / elapsed) * 1000,
    p50Ms: at(50),
    p99Ms: at(99),
    allowedShare: allowed / Math.max(1, done),
    nodeUsPerCheck: (cpu.user + cpu.system) / Math.max(1, measured),
    redisUsPerCheck: redisUs / Math.max(1, measured),
  };
}

main().then(
  (figures) => {
    console.log(JSON.stringify({ ok: true, figures }));
    process.exit(0);
  },
  (err: unknown) => {
    console.log(JSON.stringify({ ok: false, error: String(err instanceof Error ? err.stack : err) }));
    process.exit(1);
  },
);
