import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Queue } from '../../src/index.js';
import { EventStream } from '../../src/stream/index.js';
import { FixtureProcess, killFixtures } from '../helpers/fixture-process.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { startRedis } from '../helpers/redis-server.js';
import { quiet, waitFor } from '../helpers/worker-process.js';

/**
 * `hopper demo` (what `npm start` runs) as a user runs it: bin/hopper.js in its own process, on
 * this file's private redis-server (REDIS_URL, so nothing falls back to 6379) and PGlite in a
 * temp dir (its cwd), never the shared PostgreSQL.
 */
const redis = new RedisFixture();
const BIN = fileURLToPath(new URL('../../bin/hopper.js', import.meta.url));
let cwd: string;

before(() => {
  cwd = mkdtempSync(join(tmpdir(), 'hopper-demo-'));
});
afterEach(() => killFixtures());
after(() => rmSync(cwd, { recursive: true, force: true }));

function demo(args: string[] = [], redisUrl = redis.url): FixtureProcess {
  return new FixtureProcess(
    BIN,
    { REDIS_URL: redisUrl, DATABASE_URL: '', HOPPER_LOG_LEVEL: 'fatal' },
    { cwd, args: ['demo', ...args], tsx: false },
  );
}

const STATUS = /^\s+\d+s\s+added \d+\/s\s+completed \d+\/s \| waiting \d+/;

async function statusLines(child: FixtureProcess, n: number): Promise<void> {
  await child.waitForLine(
    () => child.lines.filter((l) => STATUS.test(l)).length >= n,
    `${n} status lines`,
    60_000,
  );
}

/** Exit code 0 (not killed by the signal), the shutdown printed last, and nothing left in Redis. */
async function assertCleanExit(child: FixtureProcess): Promise<void> {
  const { code, signal } = await child.exited;
  const out = child.lines.join('\n');
  assert.equal(signal, null, `killed by ${signal}:\n${out}\n${child.stderr}`);
  assert.equal(code, 0, `${out}\n${child.stderr}`);
  assert.equal(child.lines.at(-1), 'shut down cleanly', out);
  assert.deepEqual(await redis.raw.keys('*'), [], 'the demo removed every key it wrote');
}

/** Tables of demo runs left in the demo's PGlite (opened after the demo exited: one process at a time). */
async function demoTables(): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(join(cwd, '.hopper/pglite-demo'));
  try {
    const r = await db.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'demo\\_events%' ORDER BY 1",
    );
    return r.rows.map((row) => row.t);
  } finally {
    await db.close();
  }
}

/**
 * Resolves once bin/hopper.js holds the signals, its first statements: it then renames the
 * process. Before that not even Node's bootstrap is done, and no program can catch a signal.
 */
async function holdsSignals(child: FixtureProcess): Promise<void> {
  if (!existsSync('/proc/self/cmdline')) return void (await sleep(500)); // not Linux: a moment instead
  await waitFor('the demo process to rename itself', () =>
    readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('hopper demo'),
  );
}

test('Ctrl-C while the CLI is still loading: exit 0, shut down, nothing left in Redis', {
  timeout: 60_000,
}, async () => {
  const child = demo();
  await holdsSignals(child);
  assert.equal(child.lines.length, 0, 'sent before the demo printed anything');
  child.proc.kill('SIGINT');
  await assertCleanExit(child);
});

test('Ctrl-C while PGlite starts: waits for it, then shuts down and removes its data', {
  timeout: 120_000,
}, async () => {
  const child = demo();
  // Printed just before the tracking server (and PGlite, initdb on this first start) starts.
  await child.waitForLine((l) => l.startsWith('Tracking: '), 'the tracking start', 60_000);
  child.proc.kill('SIGINT');
  await assertCleanExit(child);
  assert.ok(
    child.lines.some((l) => l.startsWith('Stopping (Ctrl-C)')),
    child.lines.join('\n'),
  );
  assert.deepEqual(await demoTables(), []);
});

test('Ctrl-C while running: summary, then its queue, stream and table removed', {
  timeout: 120_000,
}, async () => {
  const child = demo();
  await statusLines(child, 2);
  child.proc.kill('SIGINT');
  await assertCleanExit(child);
  const out = child.lines.join('\n');
  assert.match(out, /^Stopping \(Ctrl-C\)/m);
  assert.match(out, /^Summary: \d+ added, \d+ completed/m);
  assert.match(
    out,
    /^Removed this run's data: queue wallet-audit-[0-9a-f]{6}, stream demo-track-[0-9a-f]{6}, table demo_events_[0-9a-f]{6}$/m,
  );
  assert.deepEqual(await demoTables(), []);
});

test('SIGTERM while running is the same graceful stop', { timeout: 120_000 }, async () => {
  const child = demo();
  await statusLines(child, 1);
  child.proc.kill('SIGTERM');
  await assertCleanExit(child);
  assert.match(child.lines.join('\n'), /^Stopping \(SIGTERM\)/m);
});

test('a second run counts only its own work and leaves what others wrote alone', {
  timeout: 120_000,
}, async () => {
  const first = demo();
  await statusLines(first, 1);
  first.proc.kill('SIGINT');
  await assertCleanExit(first);

  // What an earlier version's run killed mid-way leaves under the old fixed names: jobs waiting
  // in wallet-audit, and events in demo-track that its processor group had not read yet.
  const oldQueue = new Queue('wallet-audit', { connection: redis.url, logger: quiet });
  const oldStream = new EventStream('demo-track', { connection: redis.url, logger: quiet });
  try {
    await oldQueue.addBulk(
      Array.from({ length: 300 }, (_, i) => ({ name: 'BALANCE_CHECK_REQUIRED', data: { i } })),
    );
    await redis.raw.xgroup('CREATE', oldStream.keys.stream, 'db-writer', '$', 'MKSTREAM');
    for (let i = 0; i < 30; i++) await oldStream.appendBatch(Array.from({ length: 10 }, (_, n) => ({ n })));
  } finally {
    // Closed before the snapshot: the queue's metrics flush writes keys of its own.
    await oldQueue.close();
    await oldStream.close();
  }
  const before = (await redis.raw.keys('*')).sort();
  const waiting = await redis.raw.llen('{hopper:wallet-audit}:wait');
  assert.equal(waiting, 300);

  const second = demo(['--duration', '3']);
  const { code } = await second.exited;
  const out = second.lines.join('\n');
  assert.equal(code, 0, `${out}\n${second.stderr}`);
  assert.match(
    out,
    new RegExp(`^Redis: 127\\.0\\.0\\.1:${new URL(redis.url).port}/0 \\(from REDIS_URL\\)`, 'm'),
  );

  // Every status line and the summary count from zero: never more done than this run added.
  const status = second.lines.filter((l) => STATUS.test(l));
  assert.ok(status.length >= 2, out);
  for (const line of status) {
    const m = /\| events (\d+) -> table (\d+)/.exec(line);
    assert.ok(m, line);
    assert.ok(Number(m[2]) <= Number(m[1]), `written above accepted: ${line}`);
  }
  const jobs = /^Summary: (\d+) added, (\d+) completed/m.exec(out);
  assert.ok(jobs, out);
  assert.ok(Number(jobs[2]) > 0, 'the worker completed jobs');
  assert.ok(Number(jobs[2]) <= Number(jobs[1]), `completed above added: ${jobs[0]}`);
  const events = /^Tracking: (\d+) events accepted over HTTP \(202\), (\d+) written/m.exec(out);
  assert.ok(events, out);
  assert.ok(Number(events[1]) > 0, 'events were accepted');
  assert.equal(events[2], events[1], 'every accepted event written, and no other');
  assert.equal(second.lines.at(-1), 'shut down cleanly', out);

  // Exactly what was there before it: the old keys untouched, none of its own left.
  assert.deepEqual((await redis.raw.keys('*')).sort(), before);
  assert.equal(await redis.raw.llen('{hopper:wallet-audit}:wait'), 300);
  assert.equal(await redis.raw.xlen('{hopper:stream:demo-track}:events'), 30);
  assert.deepEqual(await demoTables(), []);
  await redis.raw.flushall();
});

test('Redis gone at shutdown: still ends, exit 1, naming what it could not remove', {
  timeout: 120_000,
}, async () => {
  const own = await startRedis(); // its own server: this one is killed
  try {
    const child = demo([], own.url);
    await statusLines(child, 1);
    await own.kill9();
    child.proc.kill('SIGINT');
    const { code, signal } = await child.exited;
    const out = child.lines.join('\n');
    assert.equal(signal, null, out);
    assert.equal(code, 1, `${out}\n${child.stderr}`);
    assert.match(child.stderr, /could not remove this run's Redis keys: cannot connect to Redis/);
    assert.match(out, /^Summary: /m);
    assert.equal(child.lines.at(-1), 'shut down, but some of its data is left (see above)');
  } finally {
    await own.stop();
  }
});
