import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, redisPid } from '../../src/cli/redis-probe.js';

/**
 * Real `redis-server` processes for tests, one per call, each on its own free
 * port and temp dir. Tests never touch the shared server on 6379: they kill,
 * restart and flush their servers, which would hurt whatever else uses 6379.
 */
export interface RedisProcess {
  port: number;
  url: string;
  dir: string;
  /** SIGTERM, wait for exit, delete the dir. Safe to call twice or after kill9. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash, no chance to flush anything. */
  kill9(): Promise<void>;
  /** Start again on the same port and dir (AOF data survives), wait for PING. SIGKILLs a running server first. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Children still running and dirs not yet removed, for the exit handler. */
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHandlerInstalled = false;

/**
 * A test file that fails or forgets `stop()` must not leave servers behind. 'exit'
 * handlers may only do synchronous work, which SIGKILL and rmSync are.
 */
function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return false;
}

/** Call at the top of a test file: without redis-server every test would fail with noise. */
export function requireRedisServer(): void {
  if (onPath('redis-server')) return;
  console.error(
    'redis-server not found on PATH: install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)',
  );
  process.exit(1);
}

function serverArgs(port: number, dir: string, aof: boolean, extra: string[]): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--daemonize',
    'no',
    // Log to a file in the dir so a failed start can quote it, without pipes to drain.
    '--logfile',
    join(dir, 'redis.log'),
    '--save',
    '',
    '--appendonly',
    aof ? 'yes' : 'no',
    ...(aof ? ['--appendfsync', 'everysec'] : []),
    // Last, so a test's own `--appendfsync always` wins over the default above.
    ...extra,
  ];
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Spawns one server and resolves once it answers INFO with its own pid, or
 * rejects if it exits first (typically: port taken) or never answers.
 */
async function launch(port: number, args: string[], dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  live.add(child);
  let exited = false;
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
    exited = true;
  });
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) break;
    // Our pid, not just any PONG: another server may hold the port we asked for.
    if (child.pid !== undefined && (await redisPid(HOST, port, 250)) === child.pid) return child;
    await sleep(20);
  }
  if (!exited) {
    child.kill('SIGKILL');
    await waitForExit(child);
  }
  throw new Error(
    `redis-server on port ${port} did not start${spawnError ? `: ${spawnError.message}` : ''}\n${logTail(dir)}`,
  );
}

export async function startRedis(opts: { aof?: boolean; args?: string[] } = {}): Promise<RedisProcess> {
  installExitHandler();
  const aof = opts.aof ?? false;
  const extra = opts.args ?? [];
  const dir = mkdtempSync(join(tmpdir(), 'hopper-redis-'));
  dirs.add(dir);

  // The free port may be taken between our probe and redis binding it: try a few.
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort(HOST);
    try {
      child = await launch(port, serverArgs(port, dir, aof, extra), dir);
    } catch (err) {
      lastError = err;
    }
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw lastError;
  }

  let current: ChildProcess = child;
  const kill9 = async () => {
    if (current.exitCode !== null || current.signalCode !== null) return;
    current.kill('SIGKILL');
    await waitForExit(current);
  };

  return {
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    kill9,
    async restart() {
      await kill9();
      // Same port on purpose (clients reconnect to it), so no new port on failure:
      // retry briefly in case the old socket is not released yet.
      const deadline = Date.now() + 3_000;
      for (;;) {
        try {
          current = await launch(port, serverArgs(port, dir, aof, extra), dir);
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await sleep(100);
        }
      }
    },
    async stop() {
      if (current.exitCode === null && current.signalCode === null) {
        current.kill('SIGTERM');
        // A server stuck in shutdown must not hang the suite.
        const timer = setTimeout(() => current.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await waitForExit(current);
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}
