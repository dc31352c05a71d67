import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { freePort } from '../src/cli/redis-probe.js';
import { type Job, Queue, Worker } from '../src/index.js';
import { registryKey } from '../src/queue/keys.js';
import { runCli as runCliAt } from './cli/run.js';
import { type RedisProcess, requireRedisServer, startRedis } from './helpers/redis-server.js';
import { waitFor } from './helpers/worker-process.js';

requireRedisServer();

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

const runCli = (args: string[], env: Record<string, string> = {}) => runCliAt(redis.url, args, env);

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
  const r = await runCli(['ping', '--url', 'ftp://u:s3cret@127.0.0.1']);
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
      waitingChildren: 0,
    });
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

test('stats escapes control characters in queue names read from the registry', async () => {
  const queue = await queueWith('cli-stats-real', 1);
  // Old data or another client may have registered anything: erase-line, carriage return, CSI (C1), bidi override.
  const forged = 'x\x1b[2K\rforged-queue  999  0\x07\u009b31m\u202e';
  const client = new Redis(redis.url);
  try {
    await client.sadd(registryKey('hopper'), forged);
    for (const args of [['stats'], ['stats', '--json']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout + r.stderr;
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not appear
      assert.doesNotMatch(out.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f\u202e]/, JSON.stringify(out));
      assert.match(r.stdout, /^cli-stats-real\b|"cli-stats-real"/m, 'the real queue is still listed');
      // Shown escaped (as a row, or as a skipped name once Queue refuses such names).
      assert.ok(out.includes('\\x1b[2K') || out.includes('\\u001b[2K'), JSON.stringify(out));
      if (args.length === 1)
        for (const line of r.stdout.trim().split('\n')) assert.doesNotMatch(line, /^forged/);
    }
  } finally {
    await client.srem(registryKey('hopper'), forged);
    client.disconnect();
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
    assert.deepEqual(header, [
      'queue',
      'waiting',
      'delayed',
      'active',
      'reserved',
      'completed',
      'failed',
      'waitingChildren',
    ]);
    assert.deepEqual(row, [queue.name, '5', '0', '1', '4', '0', '0', '0']);
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
      waitingChildren: 0,
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

test('clear refuses while jobs are active, deletes nothing, and --force clears anyway', async () => {
  const queue = await queueWith('cli-busy', 3);
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const started: string[] = [];
  const worker = new Worker(
    'cli-busy',
    async (job: Job) => {
      started.push(job.id);
      await held;
    },
    { connection: redis.url, concurrency: 3, logger: quiet },
  );
  try {
    // Every job held by a handler that does not return until the test releases it.
    await waitFor('3 running jobs', () => started.length === 3);

    const refused = await runCli(['clear', 'cli-busy', '--yes']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to clear queue "cli-busy": 3 jobs are active/);
    assert.match(refused.stderr, /--force/);
    assert.match(refused.stderr, /Nothing deleted/);
    assert.deepEqual(await queue.getCounts(), {
      waiting: 0,
      delayed: 0,
      active: 3,
      reserved: 0,
      completed: 0,
      failed: 0,
      waitingChildren: 0,
    });

    const forced = await runCli(['clear', 'cli-busy', '--yes', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /3 jobs deleted/);
    assert.deepEqual(await queue.getCounts(), {
      waiting: 0,
      delayed: 0,
      active: 0,
      reserved: 0,
      completed: 0,
      failed: 0,
      waitingChildren: 0,
    });
  } finally {
    release();
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
});
