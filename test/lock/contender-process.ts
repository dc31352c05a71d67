/**
 * One contender for the lock-contention test, in its own process.
 *
 *   node --import tsx test/lock/contender-process.ts
 *
 * Environment: REDIS_URL, RESOURCE, COUNTER (key), START (key whose existence starts
 * every contender at once), ROUNDS, HOLD_MS (sleep inside the lock).
 * Each round: acquire -> GET counter -> sleep HOLD_MS -> SET counter+1 -> release, a
 * read-modify-write that loses updates unless the lock is exclusive.
 * stdout: `ready`, then one `<fence> <counter value read>` per round, then `done`
 * (or `unreleased <fence>` if release found the lock no longer ours).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { LockManager } from '../../src/lock/index.js';

const { REDIS_URL: url, RESOURCE: resource, COUNTER: counter, START: start } = process.env;
if (!url || !resource || !counter || !start) {
  console.error('contender-process: REDIS_URL, RESOURCE, COUNTER and START are required');
  process.exit(2);
}
const rounds = Number(process.env.ROUNDS ?? '25');
const holdMs = Number(process.env.HOLD_MS ?? '2');

const locks = new LockManager({ connection: url, ttl: 10_000 });
const redis = new Redis(url);
await redis.ping();
console.log('ready');
while (!(await redis.exists(start))) await sleep(5);
for (let i = 0; i < rounds; i++) {
  const lock = await locks.acquire(resource, { waitMs: 30_000, retryDelayMs: 5 });
  const value = Number((await redis.get(counter)) ?? '0');
  await sleep(holdMs);
  await redis.set(counter, String(value + 1));
  console.log(`${lock.fence} ${value}`);
  if (!(await lock.release())) console.log(`unreleased ${lock.fence}`);
}
console.log('done');
await locks.close();
redis.disconnect();
