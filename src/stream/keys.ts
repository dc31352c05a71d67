/**
 * Redis keys of one event stream. Both share the hash tag `{prefix:stream:name}`, so a
 * stream and its dead letters live in one Cluster slot and dead-letter.lua may touch both.
 */
export interface StreamKeys {
  /** The stream itself: entries with one field `d`, the event as JSON. */
  stream: string;
  /** Dead-letter stream: entries that failed `maxDeliveries` times, with their last error. */
  dead: string;
  tag: string;
}

export function streamKeys(prefix: string, name: string): StreamKeys {
  const tag = `{${prefix}:stream:${name}}`;
  return { stream: `${tag}:events`, dead: `${tag}:dead`, tag };
}

/**
 * STRING of one append call's reply (its entry ids), kept briefly so a resent call is
 * answered from it instead of storing its events twice (append.lua).
 */
export const appendReplyKey = (keys: StreamKeys, requestId: string) => `${keys.tag}:a:${requestId}`;

/** STRING: the highest sequence number applied of one spooled producer run (append-spooled.lua). */
export const streamSpoolMarkKey = (keys: StreamKeys, run: string) => `${keys.tag}:spool:${run}`;
