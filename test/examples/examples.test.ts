import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

// Every example in examples/ runs as its README line says, against a real redis-server
// (and an in-memory PGlite, or DATABASE_URL, for 004), and prints what it did.
requireRedisServer();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

/** Runs one example with tsx from the checkout; its last stdout line is its JSON summary. */
async function runExample(file: string, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  // Generous: PGlite's first start (initdb in WebAssembly) has taken over 100 s on this shared machine.
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', join('examples', file)], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redis.url, HOPPER_LOG_LEVEL: 'error', ...env },
    timeout: 300_000,
  }).catch((err: { message: string; stderr?: string }) => {
    throw new Error(`${file} failed: ${err.message}\n${err.stderr ?? ''}`);
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

// Concurrently: 004's PGlite start (initdb in WebAssembly) takes seconds; the rest overlap it.
describe('examples', { concurrency: true }, () => {
  test('000: every job runs, the highest priority first, and the monitor prints counts', async () => {
    const out = await runExample('000-wallet-audit.ts');
    assert.equal(out.completed, 50);
    assert.deepEqual(out.firstTen, ['REBALANCE_NEEDED']);
  });

  test('001: one exchange call for 20 readers, pub/sub delivered, the 4th AI call refused', async () => {
    const out = await runExample('001-trading-cache.ts');
    assert.deepEqual(out, {
      example: '001',
      exchangeCalls: 1,
      readers: 20,
      received: 1,
      allowed: [true, true, true, false, false],
    });
  });

  test('002: 202 with a status URL, the job completes, its metrics are served', async () => {
    const out = await runExample('002-rebalance-api.ts');
    assert.equal(out.code, 202);
    assert.equal(out.state, 'completed');
    assert.deepEqual(out.result, { wallet: 'w1', moved: 3 });
    assert.equal((out.metrics as { completedJobs: number }).completedJobs, 1);
  });

  test('003: three instances send each alert once, after a failed first attempt', async () => {
    const env = { SCAN_EVERY_MS: '1000', RUN_MS: '3500' };
    const outs = await Promise.all(
      ['1', '2', '3'].map((i) => runExample('003-scan-and-alert.ts', { ...env, INSTANCE: i })),
    );
    const sent = outs.flatMap((o) => o.sent as string[]).sort();
    assert.deepEqual(sent, ['match-1', 'match-2', 'match-3']);
    assert.equal(
      outs.reduce((n, o) => n + (o.failures as number), 0),
      3,
    );
  });

  test('004: every tracked event reaches PostgreSQL', async () => {
    const out = await runExample('004-tracking-ingestion.ts', { PGLITE_DIR: 'memory://' });
    assert.equal(out.stored, 500);
    assert.equal(out.backend, process.env.DATABASE_URL ? 'pg' : 'pglite');
  });
});
