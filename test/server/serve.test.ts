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

test('hopper serve: starts, accepts a POST, on SIGTERM logs the shutdown steps, exits 0, rows in PGlite', async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redis.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    HOPPER_API_TOKENS: TOKEN,
    HOPPER_PGLITE_DIR: join(dir, 'pglite'),
    QUEUE_PROCESS_INTERVAL: '100ms',
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
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
  try {
    const base = `http://127.0.0.1:${port}`;
    // PGlite creates its database on first start: seconds on a busy machine.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const ok = await fetch(`${base}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      assert.ok(Date.now() < deadline, `server did not become healthy:\n${output}`);
      assert.equal(child.exitCode, null, `server exited:\n${output}`);
      await sleep(100);
    }
    const r = await fetch(`${base}/api/v1/track`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify(trackBody(3)),
    });
    assert.equal(r.status, 202);
    const { ids } = (await r.json()) as { ids: string[] };
    assert.equal(ids.length, 3);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const order = [
    'Successfully connected to Redis',
    'Successfully connected to database',
    'Server starting on 127.0.0.1:',
    'Shutting down server...',
    'HTTP server closed',
    '[EventProcessor] Stopping consumers...',
    '[EventProcessor] All consumers stopped gracefully',
    'Server shutdown complete',
  ];
  // In the order the lines were logged (their `time`): pino writes asynchronously, and at
  // exit a line can reach the pipe after a later one.
  const logged = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { time: number; msg: string })
    .sort((a, b) => a.time - b.time)
    .map((l) => l.msg)
    .join('\n');
  let at = 0;
  for (const line of order) {
    const found = logged.indexOf(line, at);
    assert.ok(found >= 0, `missing or out of order: ${line}\n${logged}`);
    at = found;
  }
  assert.ok(!output.includes(TOKEN), 'the token reached the logs');

  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(join(dir, 'pglite'));
  try {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    assert.equal(rows[0]!.n, 3);
  } finally {
    await db.close();
  }
});
