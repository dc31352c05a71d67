import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Algorithm, RateLimiterOptions } from '../../src/ratelimit/index.js';
import { PACKED_LOG_MAX_LIMIT } from '../../src/ratelimit/storage.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/ratelimit-hammer.ts', import.meta.url));
const W = 1000;
const L = 10;
const BURST = 5;
const DURATION = 3000;
const PROCESSES = 4;

// A generous timeout: on a busy shared box a per-process memory fallback would void the test.
const T = 2000;
const LIMITERS: RateLimiterOptions[] = [
  { algorithm: 'fixed-window', limit: L, window: W, timeoutMs: T },
  { algorithm: 'sliding-window', limit: L, window: W, timeoutMs: T },
  { algorithm: 'sliding-window-approx', limit: L, window: W, timeoutMs: T },
  { algorithm: 'token-bucket', limit: L, window: W, burst: BURST, timeoutMs: T },
  { algorithm: 'gcra', limit: L, window: W, burst: BURST, timeoutMs: T },
];

/** An allowed check: the decision happened in [sent, received]. */
interface Hit {
  sent: number;
  received: number;
  resetMs: number;
}

let redis: RedisProcess;
const children: ChildProcess[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await redis.stop();
});

function run(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<string[]>;
} {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.includes('ready\n')) markReady();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(out.split('\n').filter((l) => l.startsWith('{')));
      else reject(new Error(`hammer process exited ${code}: ${err}`));
    });
  });
  return { child, ready, done };
}

/**
 * The most allowed checks that certainly fell inside one window [a, a + W): a check counts
 * only if its whole [sent, received] interval does, so slow replies can hide an excess but
 * never invent one.
 */
function maxInAnyWindow(hits: Hit[], w: number): number {
  const sorted = [...hits].sort((a, b) => a.sent - b.sent);
  let best = 0;
  for (let i = 0; i < sorted.length; i++) {
    const from = sorted[i]!.sent;
    let count = 0;
    for (let j = i; j < sorted.length && sorted[j]!.sent < from + w; j++) {
      if (sorted[j]!.received < from + w) count++;
    }
    best = Math.max(best, count);
  }
  return best;
}

/** Runs PROCESSES hammer processes on one key with these limiters; every allowed check by algorithm. */
async function hammer(limiters: RateLimiterOptions[]): Promise<Map<Algorithm, Hit[]>> {
  // Room for 4 tsx start-ups on a loaded 2-core box (4 s was not always enough at load 10).
  const startAt = Date.now() + 8000;
  const procs = Array.from({ length: PROCESSES }, () =>
    run({
      REDIS_URL: redis.url,
      LIMITERS: JSON.stringify(limiters),
      KEY: 'shared-user',
      START_AT: String(startAt),
      DURATION_MS: String(DURATION),
      IN_FLIGHT: '4',
    }),
  );
  await Promise.all(procs.map((p) => p.ready));
  assert.ok(Date.now() < startAt, 'all processes ready before the start time');
  const outputs = await Promise.all(procs.map((p) => p.done));

  const byAlgorithm = new Map<Algorithm, Hit[]>();
  for (const lines of outputs) {
    for (const line of lines) {
      const r = JSON.parse(line) as {
        algorithm: Algorithm;
        allowed: [number, number, number][];
        fallbacks: number;
      };
      assert.equal(r.fallbacks, 0, 'every check was answered by Redis');
      const list = byAlgorithm.get(r.algorithm) ?? [];
      for (const [sent, received, resetMs] of r.allowed) list.push({ sent, received, resetMs });
      byAlgorithm.set(r.algorithm, list);
    }
  }
  return byAlgorithm;
}

test(`${PROCESSES} processes hammering one key never get more than each limit allows`, async () => {
  const byAlgorithm = await hammer(LIMITERS);
  const span = (hits: Hit[]) =>
    Math.max(...hits.map((h) => h.received)) - Math.min(...hits.map((h) => h.sent));
  const report: string[] = [];

  // Fixed window: the window a check counted in ends at decision + resetMs, a multiple of W.
  const fixed = byAlgorithm.get('fixed-window')!;
  const perWindow = new Map<number, number>();
  for (const h of fixed) {
    const end = Math.round((h.received + h.resetMs) / W) * W;
    perWindow.set(end, (perWindow.get(end) ?? 0) + 1);
  }
  const fixedMax = Math.max(...perWindow.values());
  report.push(`fixed-window: ${fixed.length} allowed, at most ${fixedMax} per window`);
  assert.ok(fixedMax <= L, `fixed-window allowed ${fixedMax} in one window`);
  assert.ok(fixedMax === L, 'the limit was reached in some window');

  const sliding = byAlgorithm.get('sliding-window')!;
  const slidingMax = maxInAnyWindow(sliding, W);
  report.push(`sliding-window: ${sliding.length} allowed, at most ${slidingMax} in any ${W} ms`);
  assert.ok(slidingMax <= L, `sliding-window allowed ${slidingMax} within ${W} ms`);
  assert.ok(sliding.length >= L * (DURATION / W) * 0.7, `sliding-window allowed only ${sliding.length}`);

  // Approximate: never more than L within one aligned window; at most 2L - 1 in any W (its stated bound).
  const approx = byAlgorithm.get('sliding-window-approx')!;
  const aligned = new Map<number, number>();
  for (const h of approx) {
    const k = Math.floor(h.sent / W);
    if (Math.floor(h.received / W) === k) aligned.set(k, (aligned.get(k) ?? 0) + 1);
  }
  const approxAligned = Math.max(...aligned.values());
  const approxMax = maxInAnyWindow(approx, W);
  report.push(
    `sliding-window-approx: ${approx.length} allowed, ${approxAligned} per aligned window, ${approxMax} in any ${W} ms`,
  );
  assert.ok(approxAligned <= L);
  assert.ok(approxMax <= 2 * L - 1);

  for (const algorithm of ['token-bucket', 'gcra'] as const) {
    const hits = byAlgorithm.get(algorithm)!;
    const most = maxInAnyWindow(hits, W);
    // n checks allowed over a span s need n <= burst + L * s / W.
    const bound = BURST + (L * span(hits)) / W;
    report.push(
      `${algorithm}: ${hits.length} allowed (bound ${bound.toFixed(1)}), at most ${most} in any ${W} ms`,
    );
    assert.ok(most <= L + BURST, `${algorithm} allowed ${most} within ${W} ms`);
    assert.ok(hits.length <= bound + 1e-6, `${algorithm} allowed ${hits.length} > ${bound}`);
    assert.ok(hits.length >= bound * 0.7, `${algorithm} allowed only ${hits.length}`);
  }
  console.log(report.join('\n'));
});

test(`${PROCESSES} processes: the exact sliding window above ${PACKED_LOG_MAX_LIMIT} (sorted set) holds too`, async () => {
  // Limits up to PACKED_LOG_MAX_LIMIT keep a packed string log (the test above); larger ones a sorted set.
  const limit = PACKED_LOG_MAX_LIMIT + 88;
  const hits = (await hammer([{ algorithm: 'sliding-window', limit, window: W, timeoutMs: T }])).get(
    'sliding-window',
  )!;
  const most = maxInAnyWindow(hits, W);
  console.log(`sliding-window (sorted set): ${hits.length} allowed, at most ${most} in any ${W} ms`);
  assert.ok(most <= limit, `allowed ${most} within ${W} ms`);
  assert.ok(hits.length >= limit * (DURATION / W) * 0.7, `allowed only ${hits.length}`);
});
