import type { Redis } from 'ioredis';
import { describeConnection } from '../redis/connection.js';
import { durabilityWarnings, readServerFacts } from '../redis/server-check.js';
import type { Logger } from '../util/logger.js';

const checked = new Set<string>();

/** Once per server per process: warn in plain words when Redis settings can lose jobs. */
export function warnAboutServer(client: Redis, logger: Logger): void {
  const where = describeConnection(client);
  if (checked.has(where)) return;
  checked.add(where);
  client.once('ready', () => {
    readServerFacts(client)
      .then((facts) => {
        for (const w of durabilityWarnings(facts)) logger.warn({ redis: where }, w);
      })
      .catch(() => checked.delete(where));
  });
}
