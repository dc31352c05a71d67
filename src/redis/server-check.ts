import type { Redis } from 'ioredis';

export interface ServerFacts {
  version: string;
  maxmemoryPolicy: string;
  aofEnabled: boolean;
  rdbSaves: boolean;
  role: string;
}

/** Parses the `field:value` lines of INFO into a map. */
export function parseInfo(info: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line[0] !== '#') map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

/** Reads what matters for durability from INFO (CONFIG may be disabled on managed services). */
export async function readServerFacts(client: Redis): Promise<ServerFacts> {
  const info = parseInfo(await client.info());
  let rdbSaves =
    Number(info.get('rdb_changes_since_last_save') ?? '0') >= 0 &&
    info.get('rdb_last_save_time') !== undefined;
  try {
    const save = (await client.config('GET', 'save')) as string[];
    rdbSaves = Boolean(save[1]);
  } catch {
    // CONFIG not allowed: assume snapshots as INFO suggests.
  }
  return {
    version: info.get('redis_version') ?? info.get('dragonfly_version') ?? 'unknown',
    maxmemoryPolicy: info.get('maxmemory_policy') ?? 'unknown',
    aofEnabled: info.get('aof_enabled') === '1',
    rdbSaves,
    role: info.get('role') ?? 'unknown',
  };
}

/** Plain-words warnings for settings that lose jobs. Empty when the server is safe. */
export function durabilityWarnings(facts: ServerFacts): string[] {
  const warnings: string[] = [];
  if (facts.maxmemoryPolicy !== 'noeviction' && facts.maxmemoryPolicy !== 'unknown') {
    warnings.push(
      `Redis maxmemory-policy is "${facts.maxmemoryPolicy}": when memory fills up Redis will silently delete queue keys and jobs will be lost. Set maxmemory-policy to noeviction.`,
    );
  }
  if (!facts.aofEnabled && !facts.rdbSaves) {
    warnings.push(
      'Redis persistence is off (no AOF, no RDB snapshots): every job is lost if Redis restarts. Enable appendonly yes.',
    );
  } else if (!facts.aofEnabled) {
    warnings.push(
      'Redis AOF is off: jobs added since the last RDB snapshot are lost if Redis restarts. Enable appendonly yes for at most ~1 s of loss.',
    );
  }
  return warnings;
}
