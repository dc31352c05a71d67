import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from './errors.js';
import { freePort, redisPid } from './redis-probe.js';

/** A `redis-server` this process started and must stop. */
export interface ManagedRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function waitForExit(child: ChildProcess): Promise<void> {
  return isRunning(child) ? new Promise((resolve) => child.once('exit', () => resolve())) : Promise.resolve();
}

/**
 * Starts `redis-server` with AOF on in `dir` (created if missing), so jobs of one
 * demo run survive into the next. The child gets its own process group: Ctrl-C
 * in the terminal then reaches only us, and Redis stays up while the worker
 * finishes its jobs; `stop()` ends it afterwards.
 */
export async function startManagedRedis(dir: string): Promise<ManagedRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort(HOST);
  const args = [
    ...['--port', String(port), '--bind', HOST, '--dir', dir, '--daemonize', 'no'],
    ...['--appendonly', 'yes', '--save', '', '--logfile', join(dir, 'redis.log')],
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  let startError: Error | undefined;
  child.once('error', (err) => {
    startError = err;
  });
  // Last resort for exits that skip stop() (an uncaught error): 'exit' handlers
  // run synchronously, which kill() is. A SIGKILL of this process cannot be
  // caught, and then the server outlives us.
  const killOnExit = () => {
    if (isRunning(child)) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (isRunning(child) && !startError && Date.now() < deadline) {
    // Our own pid answering, not just any Redis that grabbed the port meanwhile.
    if (child.pid !== undefined && (await redisPid(HOST, port, 250)) === child.pid) {
      return {
        url: `redis://${HOST}:${port}`,
        pid: child.pid,
        async stop() {
          process.off('exit', killOnExit);
          if (!isRunning(child)) return;
          child.kill('SIGTERM'); // lets Redis flush the AOF
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await waitForExit(child);
          clearTimeout(timer);
        },
      };
    }
    await sleep(20);
  }

  killOnExit();
  process.off('exit', killOnExit);
  if ((startError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new CliError(
      'no Redis to use: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, and redis-server is not on PATH ' +
        '(install it with `apt-get install redis-server` or `brew install redis`, or set REDIS_URL)',
    );
  }
  throw new CliError(
    `redis-server did not start on port ${port}${startError ? `: ${startError.message}` : ''}; see ${join(dir, 'redis.log')}`,
  );
}
