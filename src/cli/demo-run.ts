import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { escapeGlob } from '../cache/keys.js';
import { queueKeys } from '../queue/keys.js';
import { scanKeys, unlinkKeys } from '../redis/scan.js';
import { streamKeys } from '../stream/keys.js';

/** The library's default key prefix: the demo's queue then shows in `hopper stats`. */
const PREFIX = 'hopper';

/**
 * Names of one demo run, all carrying its id: a run counts and removes only what it wrote,
 * whatever an earlier run (killed before it could clean up) or a run beside it left.
 */
export interface DemoRun {
  id: string;
  queue: string;
  stream: string;
  table: string;
}

export function newDemoRun(id = randomBytes(3).toString('hex')): DemoRun {
  return { id, queue: `wallet-audit-${id}`, stream: `demo-track-${id}`, table: `demo_events_${id}` };
}

/**
 * Deletes every key under the run's queue and stream hash tags (SCAN on our own tags, never
 * KEYS): what Queue.obliterate leaves (a worker's reply keys) and the stream with its dead
 * letters. Resolves to the number of keys deleted.
 */
export async function removeRunKeys(client: Redis, run: DemoRun): Promise<number> {
  let removed = 0;
  for (const tag of [queueKeys(PREFIX, run.queue).tag, streamKeys(PREFIX, run.stream).tag]) {
    await scanKeys(client, `${escapeGlob(tag)}*`, async (found) => {
      removed += await unlinkKeys(client, found);
    });
  }
  return removed;
}
