import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/cli/redis-probe.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { auth, TOKEN, trackBody } from './helpers.js';

requireRedisServer();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let redis: RedisProcess;
let dir: string;
before(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'hopper-serve-'));
});
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  /** The JSON log lines, in the order they were logged. */
  logs: { time: number; msg: string; pid: number }[];
  output: string;
  code: number | null;
}

/**
 * Starts `hopper serve` on PGlite, waits for a healthy /health, POSTs `posts` bodies of
 * 3 events, checks each 202, sends SIGTERM and collects the log lines and exit code.
 */
async function serveOnce(
  extraEnv: NodeJS.ProcessEnv,
  pglite: string,
  posts: number,
  /** How the stop arrives: SIGTERM to the server, or SIGINT to its whole process group as Ctrl+C sends it. */
  stop: 'SIGTERM' | 'ctrl-c' = 'SIGTERM',
): Promise<Run> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redis.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    HOPPER_API_TOKENS: TOKEN,
    HOPPER_PGLITE_DIR: pglite,
    QUEUE_PROCESS_INTERVAL: '100ms',
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a Ctrl+C can be sent to it alone (it, and its workers).
    detached: stop === 'ctrl-c',
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    output += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    output += s;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let code: number | null;
  try {
    const base = `http://127.0.0.1:${port}`;
    // PGlite creates its database on first start: seconds on a busy machine.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const health = await fetch(`${base}/health`).then(
        async (r) => (r.status === 200 ? ((await r.json()) as { database: string }) : undefined),
        () => undefined,
      );
      // With HTTP_WORKERS, /health answers once one worker listens: wait for them all.
      const allListening = !extraEnv.HTTP_WORKERS || output.includes('HTTP workers listening');
      if (health && allListening) {
        assert.equal(health.database, 'healthy');
        break;
      }
      assert.ok(Date.now() < deadline, `server did not become healthy:\n${output}`);
      assert.equal(child.exitCode, null, `server exited:\n${output}`);
      await sleep(100);
    }
    for (let i = 0; i < posts; i++) {
      // A new connection each time, so a cluster spreads them over its workers.
      const r = await fetch(`${base}/api/v1/track`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify(trackBody(3)),
      });
      assert.equal(r.status, 202);
      const { ids } = (await r.json()) as { ids: string[] };
      assert.equal(ids.length, 3);
    }
    if (stop === 'ctrl-c') process.kill(-child.pid!, 'SIGINT');
    else child.kill('SIGTERM');
    code = await exited;
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) {
      if (stop === 'ctrl-c') process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    }
  }
  // In the order the lines were logged (their `time`): pino writes asynchronously, and at
  // exit a line can reach the pipe after a later one.
  const logs = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { time: number; msg: string; pid: number })
    .sort((a, b) => a.time - b.time);
  return { logs, output, code };
}

function assertInOrder(run: Run, order: string[]): void {
  const logged = run.logs.map((l) => l.msg).join('\n');
  let at = 0;
  for (const line of order) {
    const found = logged.indexOf(line, at);
    assert.ok(found >= 0, `missing or out of order: ${line}\n${logged}`);
    at = found;
  }
}

async function pgliteRows(dir: string): Promise<number> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(dir);
  try {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    return rows[0]!.n;
  } finally {
    await db.close();
  }
}

test('hopper serve: starts, accepts a POST, on SIGTERM logs the shutdown steps, exits 0, rows in PGlite', async () => {
  const pglite = join(dir, 'pglite');
  const run = await serveOnce({}, pglite, 1);
  assert.equal(run.code, 0, run.output);
  assertInOrder(run, [
    'Successfully connected to Redis',
    'Successfully connected to database',
    'Server starting on 127.0.0.1:',
    'Shutting down server...',
    'HTTP server closed',
    '[EventProcessor] Stopping consumers...',
    '[EventProcessor] All consumers stopped gracefully',
    'Server shutdown complete',
  ]);
  assert.ok(!run.output.includes(TOKEN), 'the token reached the logs');
  assert.equal(await pgliteRows(pglite), 3);
});

test('HTTP_WORKERS=2: two HTTP processes, one processor in the primary; SIGTERM stops the workers, then flushes; exit 0', async () => {
  const pglite = join(dir, 'pglite-cluster');
  const run = await serveOnce({ HTTP_WORKERS: '2' }, pglite, 6);
  assert.equal(run.code, 0, run.output);
  const pids = (msg: string) => new Set(run.logs.filter((l) => l.msg.startsWith(msg)).map((l) => l.pid));
  const listening = pids('Server starting on 127.0.0.1:');
  const primary = pids('Event processor started');
  assert.equal(listening.size, 2, 'two workers listen');
  assert.equal(primary.size, 1, 'one processor');
  assert.equal(run.logs.filter((l) => l.msg.startsWith('Event processor started')).length, 1);
  assert.ok(![...listening].some((p) => primary.has(p)), 'the processor runs outside the HTTP workers');
  assertInOrder(run, [
    'Successfully connected to database',
    '2 HTTP workers listening on 127.0.0.1:',
    'Stopping 2 HTTP workers...',
    'HTTP workers stopped: no new requests accepted',
    '[EventProcessor] Stopping consumers...',
    '[EventProcessor] All consumers stopped gracefully',
    'Server shutdown complete',
  ]);
  for (const pid of listening) {
    const own = run.logs.filter((l) => l.pid === pid).map((l) => l.msg);
    assert.ok(own.includes('Server shutdown complete'), `worker ${pid} shut down gracefully`);
    assert.ok(
      run.logs.some((l) => l.msg === `[HTTP worker ${pid}] stopped`),
      `the primary logged worker ${pid} stopping`,
    );
  }
  assert.ok(!run.output.includes(TOKEN), 'the token reached the logs');
  assert.equal(await pgliteRows(pglite), 18, 'every accepted event is a row');
});

test('HTTP_WORKERS=2 and Ctrl+C (SIGINT to the process group): one stop per process, no second signal, exit 0', async () => {
  const pglite = join(dir, 'pglite-ctrl-c');
  const run = await serveOnce({ HTTP_WORKERS: '2' }, pglite, 2, 'ctrl-c');
  assert.equal(run.code, 0, run.output);
  assert.ok(!run.logs.some((l) => l.msg.includes('second signal')), run.output);
  const done = run.logs.filter((l) => l.msg === 'Server shutdown complete');
  assert.equal(done.length, 3, 'both workers and the primary shut down gracefully');
  assert.equal(new Set(done.map((l) => l.pid)).size, 3);
  assertInOrder(run, [
    'Stopping 2 HTTP workers...',
    'HTTP workers stopped: no new requests accepted',
    '[EventProcessor] All consumers stopped gracefully',
    'Server shutdown complete',
  ]);
  assert.equal(await pgliteRows(pglite), 6, 'every accepted event is a row');
});

test('a SIGTERM while starting (PGlite still opening) stops gracefully once started: exit 0', async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redis.url,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    HOPPER_API_TOKENS: TOKEN,
    HOPPER_PGLITE_DIR: join(dir, 'pglite-early-stop'),
    HTTP_WORKERS: '2',
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const connected = new Promise<void>((resolve) => {
    const take = (s: string) => {
      output += s;
      if (output.includes('Successfully connected to Redis')) resolve();
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    await connected;
    // Before the database is open and before any worker listens.
    assert.ok(!output.includes('HTTP workers listening'), output);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /SIGTERM received/);
    assert.match(output, /Server shutdown complete/);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
