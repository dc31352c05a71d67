import { resolve } from 'node:path';
import { DEFAULT_REDIS_URL } from '../redis/connection.js';
import { CliError } from './errors.js';
import { startManagedRedis } from './managed-redis.js';
import { pingRedis } from './redis-probe.js';

/** The Redis the demo runs against, how it was found, and how to let go of it. */
export interface DemoRedis {
  url: string;
  origin: string;
  stop(): Promise<void>;
}

const MANAGED_DIR = '.hopper/redis';

/**
 * `npm start` must work on a fresh machine: an explicit REDIS_URL wins, then a
 * Redis already running on the default port, and only then one we start.
 */
export async function chooseDemoRedis(): Promise<DemoRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, origin: 'from REDIS_URL', stop: async () => {} };

  const local = await pingRedis('127.0.0.1', 6379, 500);
  if (local === 'pong') return { url: DEFAULT_REDIS_URL, origin: 'already running', stop: async () => {} };
  if (local === 'auth-required') {
    throw new CliError(
      'the Redis on 127.0.0.1:6379 requires a password: set REDIS_URL=redis://user:password@127.0.0.1:6379',
    );
  }

  const managed = await startManagedRedis(resolve(MANAGED_DIR));
  return {
    url: managed.url,
    origin: `started by the demo: redis-server pid ${managed.pid}, AOF in ${MANAGED_DIR}`,
    stop: managed.stop,
  };
}
