import type { StreamEntry } from './types.js';

/** An entry a consumer holds, with what the committer needs to retry or blame it. */
export interface Held {
  entry: StreamEntry;
  /** The event JSON as stored (dead letters carry it unchanged). */
  json: string;
  /** Sequence number of the last sink call that failed with this entry in it (0: none yet). */
  failedAt: number;
  lastError: Error | undefined;
  /** It failed alone while the sink was committing other entries: later failures count without new proof. */
  suspect: boolean;
}

type RawEntry = [id: string, fields: string[] | null];

/**
 * Decodes entries from XREADGROUP / XAUTOCLAIM. An entry deleted while pending
 * comes back with no fields: it is returned in `gone` (to acknowledge), not held.
 * Entries written by other tools (no `d` field, or not JSON) reach the sink as an
 * object of their fields rather than being dropped.
 */
export function decodeEntries(
  stream: string,
  raw: RawEntry[],
  deliveries: (id: string) => number,
): { held: Held[]; gone: string[] } {
  const held: Held[] = [];
  const gone: string[] = [];
  for (const [id, f] of raw) {
    if (!f) {
      gone.push(id);
      continue;
    }
    let json: string | undefined;
    let data: unknown;
    for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === 'd') json = f[i + 1];
    try {
      if (json === undefined) throw new Error('no d field');
      data = JSON.parse(json);
    } catch {
      const obj: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) obj[f[i]!] = f[i + 1]!;
      data = obj;
      json = JSON.stringify(obj);
    }
    held.push({
      entry: { id, stream, data, deliveries: deliveries(id), json },
      json,
      failedAt: 0,
      lastError: undefined,
      suspect: false,
    });
  }
  return { held, gone };
}

/**
 * The entries of an XREADGROUP reply for one stream (null when it timed out). RESP2
 * answers `[[key, entries]]`; RESP3 a map, which the client flattens to `[key, entries]`.
 */
export function readReply(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const pair = (typeof reply[0] === 'string' ? reply : reply[0]) as [string, RawEntry[]];
  return pair[1] ?? [];
}
