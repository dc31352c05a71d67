import { join } from 'node:path';
import { SpoolLockedError } from '../spool/errors.js';
import { EventStream } from '../stream/event-stream.js';
import type { EventStreamOptions } from '../stream/types.js';

/** HTTP processes sharing one TRACK_SPOOL_DIR at most (HTTP_WORKERS is at most 64). */
const SLOTS = 64;

/**
 * The track route's EventStream; with TRACK_SPOOL_DIR, spooled to the first free
 * sub-directory `0`, `1`, ... of it: each HTTP process holds its own (a spool has one
 * owner), and a process replacing a dead one takes over its directory and replays it.
 */
export function openTrackStream(
  name: string,
  spoolDir: string | undefined,
  options: (spool: string | undefined) => EventStreamOptions,
): EventStream {
  if (!spoolDir) return new EventStream(name, options(undefined));
  for (let slot = 0; ; slot++) {
    try {
      return new EventStream(name, options(join(spoolDir, String(slot))));
    } catch (err) {
      if (!(err instanceof SpoolLockedError) || slot >= SLOTS - 1) throw err;
    }
  }
}
