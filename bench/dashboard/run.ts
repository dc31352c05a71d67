/**
 * Dashboard cost on a big Redis (`npm run bench:dashboard`): one queue of 1,000,000 waiting
 * jobs (BENCH_JOBS) among 100 queues (BENCH_QUEUES), then for each page of the console the
 * server time of one refresh and the Redis work it causes (commands, and Redis CPU from
 * INFO commandstats), with 1 viewer and with 20 viewers asking at once (the median of
 * BENCH_ROUNDS refreshes each, default 3). Also the live
 * snapshot's Redis work per interval with 1 and 20 browsers connected.
 *
 * The console runs as `hopper dashboard` in its own process, as in production: the 20
 * viewers' HTTP clients (in this process) do not share the server's event loop.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Queue, Worker } from '../../src/index.js';
import { startRedis } from '../../test/helpers/redis-server.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000_000);
const QUEUES = Number(process.env.BENCH_QUEUES ?? 100);
const INTERVAL = 2000;
/** Refreshes measured per page and viewer count; the tables show their median. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const quiet = pino({ level: 'silent' });
const TOKEN = 'bench-admin-token-0123456789';

const redis = await startRedis({ args: ['--save', ''] });
const raw = new Redis(redis.url);

async function fill(): Promise<void> {
  const t0 = performance.now();
  const big = new Queue('big', { connection: redis.url, logger: quiet, metrics: false });
  const chunk = Array.from({ length: 1000 }, (_, i) => ({
    name: i % 500 === 0 ? 'needle' : 'job',
    data: { user: `u${i}`, amount: i },
  }));
  for (let done = 0; done < JOBS; ) {
    const batch = [];
    for (let k = 0; k < 20 && done < JOBS; k++, done += 1000) batch.push(big.addBulk(chunk));
    await Promise.all(batch);
  }
  await big.addBulk(
    Array.from({ length: 1000 }, (_, i) => ({ name: 'later', data: { i }, opts: { delay: 3600_000 + i } })),
  );
  await big.close();
  // 99 small queues with some history: completed and failed jobs and metrics.
  const small = Array.from(
    { length: QUEUES - 1 },
    (_, i) => new Queue(`q${String(i).padStart(3, '0')}`, { connection: redis.url, logger: quiet }),
  );
  await Promise.all(
    small.map((q) => q.addBulk(Array.from({ length: 100 }, (_, i) => ({ name: 'small', data: { i } })))),
  );
  const workers = small.slice(0, 10).map(
    (q) =>
      new Worker(
        q.name,
        async (job) => {
          if ((job.data as { i: number }).i % 10 === 0) throw new Error('bench failure');
        },
        { connection: redis.url, logger: quiet, concurrency: 10 },
      ),
  );
  while ((await small[9]!.getCounts()).waiting > 0) await sleep(100);
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(small.map((q) => q.close()));
  console.log(
    `filled: ${JOBS.toLocaleString('en-US')} jobs in "big" + ${QUEUES - 1} queues, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

/** Redis's own counters: commands processed and CPU µs spent in commands. */
async function redisWork(): Promise<{ calls: number; usec: number }> {
  const info = await raw.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { calls, usec };
}

await fill();
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});
const server = spawn(process.execPath, ['bin/hopper.js', 'dashboard'], {
  env: {
    ...process.env,
    REDIS_URL: redis.url,
    HOPPER_TOKENS: `bench:${TOKEN}:admin`,
    HOST: '127.0.0.1',
    PORT: String(port),
    HOPPER_DASHBOARD_INTERVAL: String(INTERVAL),
    HOPPER_LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const origin = `http://127.0.0.1:${port}`;
for (let ready = false; !ready; ) {
  ready = await fetch(`${origin}/dashboard/`).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready) await sleep(100);
}
const base = `${origin}/dashboard/api`;
const login = await fetch(`${base}/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', origin },
  body: JSON.stringify({ token: TOKEN }),
});
const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
const { csrf } = (await login.json()) as { csrf: string };
const headers = { cookie, origin, 'x-hopper-csrf': csrf, 'content-type': 'application/json' };
const someId = (
  (await (await fetch(`${base}/queues/big/jobs?state=waiting&page=0&size=10`, { headers })).json()) as {
    jobs: { id: string }[];
  }
).jobs[0]!.id;

const pages: [string, string, unknown?][] = [
  ['overview (100 queues)', 'overview'],
  ['queue: waiting, first page', 'queues/big/jobs?state=waiting&page=0&size=25'],
  ['queue: waiting, page 20,000 (row 500,000)', 'queues/big/jobs?state=waiting&page=20000&size=25'],
  ['queue: waiting, newest first', 'queues/big/jobs?state=waiting&page=0&size=25&order=newest'],
  ['queue: delayed', 'queues/big/jobs?state=delayed&page=0&size=25'],
  ['queue: failed', 'queues/q000/jobs?state=failed&page=0&size=25'],
  ['job detail', `queues/big/jobs/${someId}`],
  ['search by name (one step)', 'queues/big/search', { by: 'name', text: 'needle' }],
  ['search by data (one step)', 'queues/big/search', { by: 'data', text: '"u499"' }],
  ['groups', 'queues/big/groups'],
  ['schedules', 'queues/big/schedules'],
  ['workers (all queues)', 'workers'],
  ['chart: hour', 'queues/q000/chart?range=hour'],
  ['chart: day', 'queues/q000/chart?range=day'],
  ['chart: week', 'queues/q000/chart?range=week'],
  ['streams', 'streams'],
];

interface Refresh {
  /** Slowest viewer's time, as the client saw it (HTTP on loopback included). */
  ms: number;
  /** Slowest viewer's time inside the server (its server-timing header). */
  serverMs: number;
  calls: number;
  usec: number;
  bytes: number;
}

async function refresh(path: string, body: unknown, viewers: number): Promise<Refresh> {
  await sleep(INTERVAL + 100); // the shared result of the previous round is stale by now
  const before = await redisWork();
  const seen = await Promise.all(
    Array.from({ length: viewers }, async () => {
      const s = performance.now();
      const res = await fetch(`${base}/${path}`, {
        method: body ? 'POST' : 'GET',
        headers,
        body: body ? JSON.stringify(body) : undefined,
      });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      const bytes = (await res.arrayBuffer()).byteLength;
      const server = Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? Number.NaN);
      return { ms: performance.now() - s, server, bytes };
    }),
  );
  const after = await redisWork();
  // The INFO call itself is one command.
  return {
    ms: Math.max(...seen.map((x) => x.ms)),
    serverMs: Math.max(...seen.map((x) => x.server)),
    calls: after.calls - before.calls - 1,
    usec: after.usec - before.usec,
    bytes: seen[0]!.bytes,
  };
}

const first = await refresh('overview', undefined, 1);
console.log(
  `first overview after start, reading 30 minutes of sparklines for every queue: ${first.ms.toFixed(1)} ms (server ${first.serverMs.toFixed(1)} ms), ${first.calls} commands`,
);
console.log(
  '\npage | reply KB | 1 viewer: ms | server ms | commands | Redis µs | 20 viewers: slowest ms | slowest server ms | commands | Redis µs',
);
console.log('---|---:|---:|---:|---:|---:|---:|---:|---:|---:');
/** Median over ROUNDS refreshes: on a shared machine one refresh can land in another process's burst. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function rounds(path: string, body: unknown, viewers: number): Promise<Refresh> {
  const all: Refresh[] = [];
  for (let i = 0; i < ROUNDS; i++) all.push(await refresh(path, body, viewers));
  return {
    ms: median(all.map((r) => r.ms)),
    serverMs: median(all.map((r) => r.serverMs)),
    calls: median(all.map((r) => r.calls)),
    usec: median(all.map((r) => r.usec)),
    bytes: all[0]!.bytes,
  };
}
for (const [label, path, body] of pages) {
  await refresh(path, body, 1); // warm: the Queue object and its connection opened, past sparkline minutes read
  const one = await rounds(path, body, 1);
  const twenty = await rounds(path, body, 20);
  console.log(
    `${label} | ${(one.bytes / 1024).toFixed(1)} | ${one.ms.toFixed(1)} | ${one.serverMs.toFixed(1)} | ${one.calls} | ${one.usec} | ${twenty.ms.toFixed(1)} | ${twenty.serverMs.toFixed(1)} | ${twenty.calls} | ${twenty.usec}`,
  );
}

async function live(viewers: number): Promise<{ calls: number; usec: number }> {
  const aborts = Array.from({ length: viewers }, () => new AbortController());
  const streams = await Promise.all(
    aborts.map((a) => fetch(`${base}/events`, { headers: { cookie }, signal: a.signal })),
  );
  const drains = streams.map(async (s) => {
    try {
      for await (const _ of s.body!);
    } catch {}
  });
  await sleep(INTERVAL * 1.5);
  const before = await redisWork();
  await sleep(INTERVAL * 5);
  const after = await redisWork();
  for (const a of aborts) a.abort();
  await Promise.all(drains);
  await sleep(INTERVAL);
  return { calls: (after.calls - before.calls - 1) / 5, usec: (after.usec - before.usec) / 5 };
}
const l1 = await live(1);
const l20 = await live(20);
console.log('\nlive updates (SSE) | Redis commands per interval | Redis µs per interval');
console.log('---|---:|---:');
console.log(`1 browser | ${l1.calls.toFixed(0)} | ${l1.usec.toFixed(0)}`);
console.log(`20 browsers | ${l20.calls.toFixed(0)} | ${l20.usec.toFixed(0)}`);
console.log(`ratio 20/1 | ${(l20.calls / l1.calls).toFixed(2)} | ${(l20.usec / l1.usec).toFixed(2)}`);

server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
raw.disconnect();
await redis.stop();
process.exit(0);
