import type { Redis } from 'ioredis';
import { scanKeys } from '../redis/scan.js';

const glob = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Event streams have no registry: they are found by SCAN (never KEYS) on their key
 * shape `{prefix:stream:name}:events` or `:dead` (a stream whose entries were all
 * trimmed may only have dead letters left).
 */
export async function findStreams(client: Redis, prefix: string): Promise<string[]> {
  const head = `{${prefix}:stream:`;
  const names = new Set<string>();
  for (const suffix of ['events', 'dead']) {
    await scanKeys(client, `${glob(head)}*}:${suffix}`, (keys) => {
      for (const key of keys) names.add(key.slice(head.length, key.length - suffix.length - 2));
    });
  }
  return [...names].sort();
}
