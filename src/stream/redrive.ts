import type { Redis } from 'ioredis';
import type { StreamKeys } from './keys.js';

/** Dead letters read and moved per transaction. */
const PAGE = 500;

export interface RedriveOptions {
  /** Only dead letters of this consumer group (their `group` field). Default: all. */
  group?: string;
}

/**
 * Moves dead-lettered events back into their stream, each as a new one-event entry
 * (field `d`, the event JSON the dead letter kept unchanged), oldest first. Every group
 * of the stream then reads them, as it would any new event. Each page is one
 * WATCHed MULTI: an event is appended and its dead letter deleted together, and a
 * concurrent redrive makes the page retry instead of appending it twice. `client`
 * must not be shared with other commands while this runs (WATCH is per connection).
 * Returns the number of events moved.
 */
export async function redriveDeadLetters(
  client: Redis,
  keys: StreamKeys,
  opts: RedriveOptions = {},
): Promise<number> {
  let moved = 0;
  let from = '-';
  for (;;) {
    await client.watch(keys.dead);
    const page = (await client.xrange(keys.dead, from, '+', 'COUNT', PAGE)) as [string, string[]][];
    if (page.length === 0) {
      await client.unwatch();
      return moved;
    }
    const chosen = page.filter(([, f]) => opts.group === undefined || field(f, 'group') === opts.group);
    if (chosen.length === 0) {
      await client.unwatch();
      from = `(${page[page.length - 1]![0]}`;
      continue;
    }
    const tx = client.multi();
    for (const [id, f] of chosen) {
      tx.xadd(keys.stream, '*', 'd', field(f, 'data') ?? 'null');
      tx.xdel(keys.dead, id);
    }
    const result = await tx.exec();
    if (result === null) continue; // the dead letters changed meanwhile: read the page again
    for (const [err] of result) if (err) throw err;
    moved += chosen.length;
    from = `(${page[page.length - 1]![0]}`;
  }
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
