import { type Redis, ReplyError } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { MARK_TTL_MS, type SpoolTarget } from '../spool/target.js';
import { MAX_EVENTS_PER_ENTRY } from './append-batcher.js';
import { type StreamKeys, streamSpoolMarkKey } from './keys.js';

/** One append call of a spooled stream: its events as JSON, and whether they share entries. */
export interface SpooledEvents {
  events: string[];
  together: boolean;
}

const RETRYABLE = /^(LOADING|BUSY|TRYAGAIN|READONLY|MASTERDOWN|CLUSTERDOWN|NOSCRIPT|OOM)\b/;

/** How a stream's spool reaches Redis: append-spooled.lua with the run's mark. */
export function streamSpoolTarget(client: Redis, keys: StreamKeys): SpoolTarget<SpooledEvents> {
  return {
    async apply(run, items, force) {
      const args: (string | number)[] = [MARK_TTL_MS, force ? '1' : '0', items.length];
      for (const { seq, value } of items) {
        const { events, together } = value;
        if (together) {
          args.push(seq, Math.ceil(events.length / MAX_EVENTS_PER_ENTRY));
          for (let at = 0; at < events.length; at += MAX_EVENTS_PER_ENTRY) {
            const chunk = events.slice(at, at + MAX_EVENTS_PER_ENTRY);
            args.push(chunk.length, ...chunk);
          }
        } else {
          args.push(seq, events.length);
          for (const json of events) args.push('d', json);
        }
      }
      const reply = await callScript<string[]>(
        client,
        'append-spooled',
        [keys.stream, streamSpoolMarkKey(keys, run)],
        args,
      );
      if (reply[0] === 'gap') return { gap: Number(reply[1]) };
      return {
        ids: reply.slice(1).map((joined, i) => {
          if (joined === '') return null;
          const entries = joined.split(',');
          const { events, together } = items[i]!.value;
          if (!together) return entries;
          // As the append batcher: `<entryId>:<index within the entry>`.
          return events.map(
            (_, k) => `${entries[Math.floor(k / MAX_EVENTS_PER_ENTRY)]}:${k % MAX_EVENTS_PER_ENTRY}`,
          );
        }),
      };
    },
    encode: (v) => JSON.stringify([v.together ? 1 : 0, v.events]),
    decode: (body) => {
      const [together, events] = JSON.parse(body) as [number, string[]];
      return { events, together: together === 1 };
    },
    weight: (v) => v.events.length,
    isDefinite: (err) =>
      err instanceof (ReplyError as typeof Error) && !RETRYABLE.test((err as Error).message),
  };
}
