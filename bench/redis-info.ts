/** Reads figures from a Redis server's INFO. */
import type { Redis } from 'ioredis';

function field(info: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

/** CPU seconds the redis-server process has used so far (user + system, all threads). */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const sys = Number(field(info, 'used_cpu_sys'));
  const user = Number(field(info, 'used_cpu_user'));
  if (!Number.isFinite(sys) || !Number.isFinite(user))
    throw new Error('INFO cpu lacks used_cpu_sys/used_cpu_user');
  return sys + user;
}

export async function redisVersion(client: Redis): Promise<string> {
  return field(await client.info('server'), 'redis_version') ?? 'unknown';
}

/** Commands the bench's own probes send (INFO, CONFIG, CLUSTER): not the queue's work. */
const PROBES = /^cmdstat_(info|config|cluster|ping|client|hello|command)/;

/**
 * Commands run so far, those run inside scripts included (INFO commandstats), without the
 * probes. Unlike CPU, a count does not stretch with the machine's load.
 */
export async function redisCommandCount(client: Redis): Promise<number> {
  let calls = 0;
  for (const m of (await client.info('commandstats')).matchAll(/^(cmdstat_\S+):calls=(\d+)/gm))
    if (!PROBES.test(m[1]!)) calls += Number(m[2]);
  return calls;
}
