import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { freePort } from '../src/cli/redis-probe.js';
import { Queue, Worker } from '../src/index.js';
import { registryKey } from '../src/queue/keys.js';
import { type RedisProcess, requireRedisServer, startRedis } from './helpers/redis-server.js';

requireRedisServer();

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/hopper.js ...args` as a user would, stdin a closed pipe (not a
 * TTY). REDIS_URL points at the test server so nothing can fall back to 6379.
 */
function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/hopper.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redis.url, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The harness Redis has no persistence on purpose; the test queues need not warn about it. */
const quiet = pino({ level: 'silent' });

async function queueWith(name: string, jobs: number): Promise<Queue> {
  const queue = new Queue(name, { connection: redis.url, logger: quiet });
  await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'job', data: { i } })));
  return queue;
}

test('ping prints the Redis version and latency and exits 0', async () => {
  const r = await runCli(['ping', '--url', redis.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Redis \d+\.\d+\.\d+/m);
  assert.match(r.stdout, /latency:\s+\d+\.\d{2} ms/);
  assert.match(r.stdout, /maxmemory-policy:\s+\S+/);
  // The harness runs without AOF or RDB, so the persistence warning must show.
  assert.match(r.stdout, /persistence:\s+AOF off, RDB off/);
  assert.match(r.stdout, /warning: Redis persistence is off/);
});

test('ping to a closed port exits 1 with one clear line and no password', async () => {
  const port = await freePort();
  const r = await runCli(['ping', '--url', `redis://u:s3cret@127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot connect to Redis at u@127\\.0\\.0\\.1:${port}/0 within 3 s`));
  assert.doesNotMatch(r.stderr + r.stdout, /s3cret/);
});

test('ping rejects a malformed URL without a stack', async () => {
  const r = await runCli(['ping', '--url', 'http://u:s3cret@127.0.0.1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^hopper: connection: URL scheme must be redis:\/\/ or rediss:\/\//);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.doesNotMatch(r.stderr, /s3cret/);
});

test('stats --json prints the counts of a queue', async () => {
  const queue = await queueWith('cli-stats', 3);
  try {
    const r = await runCli(['stats', 'cli-stats', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const parsed = JSON.parse(r.stdout) as Record<string, Record<string, number>>;
    assert.deepEqual(parsed['cli-stats'], {
      waiting: 3,
      delayed: 0,
      active: 0,
      reserved: 0,
      completed: 0,
      failed: 0,
    });
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

test('stats shows running jobs as active and prefetched ones as reserved', async () => {
  const queue = await queueWith('cli-stats-reserved', 10);
  const running: (() => void)[] = [];
  const worker = new Worker(queue.name, () => new Promise<void>((resolve) => running.push(resolve)), {
    connection: redis.url,
    concurrency: 1,
    prefetch: 4,
    logger: quiet,
  });
  try {
    const deadline = Date.now() + 5000;
    while (running.length === 0 && Date.now() < deadline) await sleep(10);
    const r = await runCli(['stats', queue.name]);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    assert.deepEqual(header, ['queue', 'waiting', 'delayed', 'active', 'reserved', 'completed', 'failed']);
    assert.deepEqual(row, [queue.name, '5', '0', '1', '4', '0', '0']);
  } finally {
    const closed = worker.close({ timeout: 100 });
    for (const resolve of running) resolve();
    await closed;
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

test('clear --yes deletes every job of the queue', async () => {
  const queue = await queueWith('cli-clear', 5);
  try {
    const r = await runCli(['clear', 'cli-clear', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /5 jobs deleted/);
    assert.deepEqual(await queue.getCounts(), {
      waiting: 0,
      delayed: 0,
      active: 0,
      reserved: 0,
      completed: 0,
      failed: 0,
    });
    const client = new Redis(redis.url);
    try {
      assert.equal(await client.sismember(registryKey('hopper'), 'cli-clear'), 0);
    } finally {
      client.disconnect();
    }
  } finally {
    await queue.close();
  }
});

test('clear without --yes refuses on a non-TTY stdin and deletes nothing', async () => {
  const queue = await queueWith('cli-keep', 2);
  try {
    const r = await runCli(['clear', 'cli-keep']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /stdin is not a terminal, pass --yes/);
    assert.equal((await queue.getCounts()).waiting, 2);
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

test('demo --duration 3 prints status lines and shuts down cleanly', { timeout: 30_000 }, async () => {
  // PGlite (under ./.hopper), never the shared PostgreSQL: the demo's table must not outlive the test.
  const r = await runCli(['demo', '--duration', '3'], { DATABASE_URL: '' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Redis: 127\\.0\\.0\\.1:${redis.port}/0 \\(from REDIS_URL\\)`, 'm'));
  const statusLines = r.stdout.match(/^\s+\d+s\s+added \d+\/s\s+completed \d+\/s \| waiting \d+/gm) ?? [];
  assert.ok(statusLines.length >= 2, `expected status lines, got:\n${r.stdout}`);
  const summary = /^Summary: (\d+) added, (\d+) completed/m.exec(r.stdout);
  assert.ok(summary, r.stdout);
  assert.ok(Number(summary[2]) > 0, 'the worker completed jobs');
  assert.match(r.stdout, /shut down cleanly\n$/);

  // A graceful close hands back every job it held: none may stay active.
  const queue = new Queue('wallet-audit', { connection: redis.url, logger: quiet });
  try {
    assert.equal((await queue.getCounts()).active, 0);
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
});
