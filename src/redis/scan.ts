import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './connection.js';

/**
 * SCAN (never KEYS) for `pattern`, page by page. On a Cluster, SCAN sent through the
 * cluster client would reach one node only, so every master is scanned in turn.
 */
export async function scanKeys(
  client: Redis,
  pattern: string,
  onPage: (keys: string[]) => Promise<void> | void,
): Promise<void> {
  const servers = isCluster(client) ? (client as unknown as Cluster).nodes('master') : [client];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, found] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await onPage(found);
    } while (cursor !== '0');
  }
}

/** UNLINK that is legal on a Cluster too: keys of different slots may not share a command there. */
export async function unlinkKeys(client: Redis, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!isCluster(client)) return client.unlink(...keys);
  const counts = await Promise.all(keys.map((k) => client.unlink(k)));
  return counts.reduce((a, b) => a + b, 0);
}
