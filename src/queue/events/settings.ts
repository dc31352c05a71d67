import type { Redis } from 'ioredis';
import { ValidationError } from '../../util/errors.js';
import type { QueueKeys } from '../keys.js';

/** Entries the events stream keeps when nothing was set (events.lua's default). */
export const DEFAULT_EVENTS_MAX_LEN = 10_000;
const MAX_EVENTS_MAX_LEN = 10_000_000;

export interface EventsSettings {
  /**
   * Entries the events stream keeps (trimmed with MAXLEN ~, so a little more): one entry
   * holds one event of every job a script call touched (up to a fetch or settle batch).
   * 0 turns events off: the scripts then write nothing.
   */
  maxLen: number;
}

/** Stores the queue's events setting in meta (`evlen`): every script reads it with the settings. */
export async function writeEventsSettings(client: Redis, keys: QueueKeys, s: EventsSettings): Promise<void> {
  if (typeof s !== 'object' || s === null) throw new ValidationError('events', 'must be { maxLen }');
  const n = s.maxLen;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_EVENTS_MAX_LEN)
    throw new ValidationError(
      'events.maxLen',
      `must be an integer from 0 (off) to ${MAX_EVENTS_MAX_LEN}, got ${String(n)}`,
    );
  if (n === 0) await client.multi().hset(keys.meta, 'evlen', '0').del(keys.events).exec();
  else await client.hset(keys.meta, 'evlen', String(n));
}

export async function readEventsSettings(client: Redis, keys: QueueKeys): Promise<EventsSettings> {
  const v = await client.hget(keys.meta, 'evlen');
  return { maxLen: v === null ? DEFAULT_EVENTS_MAX_LEN : Number(v) };
}
