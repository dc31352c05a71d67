/**
 * `npm run bench:rest`: the REST transport through `hopper rest-gateway` (its own process)
 * against TCP to the same private redis-server, in one run: Queue.add, Cache.get and
 * RateLimiter.limit rates with many calls in flight, and one call at a time (latency).
 * @upstash/redis GET through the same gateway is the reference for a plain REST client.
 * Prints a table with REST/TCP ratios; docs/benchmarks.md quotes a run of it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis as Upstash } from '@upstash/redis';
import { pino } from 'pino';
import { Cache, Queue, RateLimiter } from '../../src/index.js';
import type { ConnectionOptions } from '../../src/redis/connection.js';
import { startRedis } from '../redis.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const IN_FLIGHT = 100;
const quiet = pino({ level: 'silent' });

/** Calls `op` with `inFlight` calls outstanding for SECONDS: calls per second. */
async function rate(op: (i: number) => Promise<unknown>, inFlight: number): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  const lane = async (l: number) => {
    for (let i = l; performance.now() < end; i += inFlight) {
      await op(i);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, l) => lane(l)));
  return done / ((performance.now() - start) / 1000);
}

/** One call at a time for a second: the median latency in ms. */
async function latency(op: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  const end = performance.now() + 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface Row {
  what: string;
  tcp: number;
  rest: number;
  unit: string;
}

async function measure(connection: ConnectionOptions, label: string) {
  const q = new Queue(`bench-rest-${label}`, { connection, metrics: false });
  const cache = new Cache({ connection, namespace: `bench-${label}`, memory: false, logger: quiet });
  const limiter = new RateLimiter({
    connection,
    algorithm: 'sliding-window',
    limit: 100_000,
    window: 60_000,
  });
  await cache.set('hot', { v: 'x'.repeat(100) });
  const add = (i: number) => q.add('job', { i });
  const get = () => cache.get('hot');
  const check = (i: number) => limiter.limit(`k${i % 1000}`);
  await rate(add, IN_FLIGHT); // warm-up
  const out = {
    add: await rate(add, IN_FLIGHT),
    get: await rate(get, IN_FLIGHT),
    check: await rate(check, IN_FLIGHT),
    addLat: await latency(add),
    getLat: await latency(get),
    checkLat: await latency(check),
  };
  await Promise.all([q.close(), cache.close(), limiter.close()]);
  return out;
}

const redis = await startRedis({ aof: false });
const token = randomBytes(16).toString('hex');
const child = spawn(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(new URL('./gateway.ts', import.meta.url))],
  {
    env: { ...process.env, REDIS_URL: redis.url, GATEWAY_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise<string>((resolve) =>
  child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
);
try {
  const tcp = await measure(redis.url, 'tcp');
  await redis.flushAll();
  const rest = await measure({ url, token }, 'rest');
  const upstash = new Upstash({ url, token, enableTelemetry: false, automaticDeserialization: false });
  await upstash.set('plain', 'x'.repeat(100));
  const upstashGet = await rate(() => upstash.get('plain'), IN_FLIGHT);
  const rows: Row[] = [
    { what: `Queue.add, ${IN_FLIGHT} in flight`, tcp: tcp.add, rest: rest.add, unit: '/s' },
    { what: `Cache.get (Redis tier), ${IN_FLIGHT} in flight`, tcp: tcp.get, rest: rest.get, unit: '/s' },
    { what: `RateLimiter.limit, ${IN_FLIGHT} in flight`, tcp: tcp.check, rest: rest.check, unit: '/s' },
    { what: 'Queue.add, one at a time (median)', tcp: tcp.addLat, rest: rest.addLat, unit: ' ms' },
    { what: 'Cache.get, one at a time (median)', tcp: tcp.getLat, rest: rest.getLat, unit: ' ms' },
    {
      what: 'RateLimiter.limit, one at a time (median)',
      tcp: tcp.checkLat,
      rest: rest.checkLat,
      unit: ' ms',
    },
  ];
  const f = (v: number, unit: string) =>
    unit === '/s' ? `${Math.round(v).toLocaleString('en-US')}/s` : `${v.toFixed(2)} ms`;
  console.log(
    `REST transport through hopper rest-gateway vs TCP, same redis-server ${redis.version}, ${SECONDS} s per rate`,
  );
  console.log('| operation | TCP | REST | REST/TCP |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.what} | ${f(r.tcp, r.unit)} | ${f(r.rest, r.unit)} | ${(r.rest / r.tcp).toFixed(2)}x |`,
    );
  console.log(
    `| @upstash/redis GET through the same gateway, ${IN_FLIGHT} in flight (reference) | | ${f(upstashGet, '/s')} | Cache.get over REST: ${(rest.get / upstashGet).toFixed(2)}x of it |`,
  );
} finally {
  child.kill('SIGTERM');
  await redis.stop();
}
