import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../src/cli/redis-probe.js';

/**
 * A private PostgreSQL server for tests that stop and restart the database: initdb
 * into a temp dir, `postgres` on a free loopback port, trust auth, its unix socket in
 * the temp dir. Tests must never stop the shared server on 5432, which other work uses.
 */
export interface PostgresProcess {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  dir: string;
  /** SIGKILL to the postmaster and every backend: a crash, no shutdown checkpoint. */
  kill9(): Promise<void>;
  /** Start again on the same port and data dir (crash recovery runs), wait until it answers. */
  restart(): Promise<void>;
  /** Fast shutdown, wait for exit, delete the dir. Safe to call twice or after kill9. */
  stop(): Promise<void>;
}

const BIN = process.env.HOPPER_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Why a private server cannot run here, or undefined when it can: tests skip with this message. */
export function postgresUnavailable(): string | undefined {
  for (const tool of ['initdb', 'postgres']) {
    try {
      accessSync(join(BIN, tool), constants.X_OK);
    } catch {
      return `${join(BIN, tool)} not found: install Debian's postgresql-15 (or set HOPPER_PG_BIN) to run this test`;
    }
  }
  if (process.getuid?.() === 0 && owner() === undefined)
    return 'running as root and there is no "postgres" user to run the server as';
  return undefined;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` user. */
function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHandlerInstalled = false;

/** A test that fails before stop() must not leave a server or its dir behind ('exit' allows only sync work). */
function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** The postmaster runs in its own process group, so one signal reaches every backend too. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (!running(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startPostgres(): Promise<PostgresProcess> {
  const why = postgresUnavailable();
  if (why) throw new Error(why);
  installExitHandler();
  const user = owner();
  const dir = mkdtempSync(join(tmpdir(), 'hopper-pg-'));
  dirs.add(dir);
  const data = join(dir, 'data');
  const ids = user ? { uid: user.uid, gid: user.gid } : {};
  let current: ChildProcess | undefined;
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    execFileSync(
      join(BIN, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
      { ...ids, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
    );
    const port = await freePort(HOST);
    const url = `postgres://postgres@${HOST}:${port}/postgres`;
    const launch = async (): Promise<ChildProcess> => {
      const child = spawn(
        join(BIN, 'postgres'),
        [
          '-D',
          data,
          '-p',
          String(port),
          '-c',
          `listen_addresses=${HOST}`,
          '-c',
          `unix_socket_directories=${dir}`,
          // A killed process keeps what it wrote in the OS page cache; only an OS crash needs fsync.
          '-c',
          'fsync=off',
          '-c',
          'shared_buffers=32MB',
          '-c',
          'max_connections=60',
          '-c',
          'logging_collector=off',
        ],
        { ...ids, cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      live.add(child);
      let log = '';
      child.stderr!.setEncoding('utf8').on('data', (s: string) => {
        log = (log + s).slice(-4000);
      });
      child.once('exit', () => live.delete(child));
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Date.now() < deadline && running(child)) {
        if (await answers(url)) return child;
        await sleep(50);
      }
      killGroup(child, 'SIGKILL');
      await waitForExit(child);
      throw new Error(
        `private postgres on port ${port} did not start:\n${log.trim().split('\n').slice(-8).join('\n')}`,
      );
    };
    current = await launch();

    const kill9 = async () => {
      if (!current || !running(current)) return;
      killGroup(current, 'SIGKILL');
      await waitForExit(current);
      // Backends may outlive the postmaster for a moment; the next start needs them gone.
      await sleep(200);
    };
    return {
      port,
      url,
      dir,
      kill9,
      async restart() {
        await kill9();
        // Same port on purpose (clients reconnect to it): retry while the old socket or shared memory is released.
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            current = await launch();
            return;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            await sleep(200);
          }
        }
      },
      async stop() {
        if (current && running(current)) {
          current.kill('SIGINT'); // fast shutdown: the postmaster stops its backends
          const timer = setTimeout(() => current && killGroup(current, 'SIGKILL'), STOP_TIMEOUT_MS);
          await waitForExit(current);
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
      },
    };
  } catch (err) {
    if (current) {
      killGroup(current, 'SIGKILL');
      await waitForExit(current);
    }
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw err;
  }
}
