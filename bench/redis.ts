/**
 * Starts a private redis-server for the benchmark (never the shared one on 6379):
 * a free loopback port, a temp dir, no RDB snapshots, AOF off or everysec.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisVersion } from './redis-info.js';

export interface RedisServer {
  readonly url: string;
  readonly version: string;
  readonly config: string;
  /** Admin connection of the orchestrator (FLUSHALL, INFO). */
  readonly admin: Redis;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<Redis> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch {
      client.disconnect();
      await sleep(50);
    }
  }
  throw new Error(`redis-server did not answer PING within ${timeoutMs} ms`);
}

export async function startRedis(options: { aof: boolean }): Promise<RedisServer> {
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  const persistence = options.aof
    ? ['--appendonly', 'yes', '--appendfsync', 'everysec']
    : ['--appendonly', 'no'];
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'hopper-bench-redis-'));
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence];
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const kill = (): void => {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', kill);
    const url = `redis://127.0.0.1:${port}`;
    try {
      const admin = await waitForPing(url, child, 5_000);
      const version = await redisVersion(admin);
      return {
        url,
        version,
        config: `--save "" ${persistence.join(' ')}`,
        admin,
        async flushAll() {
          await admin.flushall();
        },
        async stop() {
          admin.disconnect();
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await Promise.race([exited, sleep(3_000)]);
          }
          kill();
          process.removeListener('exit', kill);
        },
      };
    } catch (error) {
      lastError = new Error(`${(error as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
      kill();
      process.removeListener('exit', kill);
    }
  }
  throw lastError;
}
