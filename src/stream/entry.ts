import type { StreamEntry } from './types.js';

/**
 * A stream entry as its consumer tracks it: acknowledged once every event in it is
 * written or dead-lettered (`open` reaches 0). An entry from append/appendMany holds
 * one event; one from appendBatch holds several.
 */
export interface Source {
  /** The Redis entry id, which XACK, XCLAIM and XPENDING speak. */
  id: string;
  /** Its events not yet written nor dead-lettered. */
  open: number;
}

/** An event a consumer holds, with what the committer needs to retry or blame it. */
export interface Held {
  entry: StreamEntry;
  source: Source;
  /** The event JSON as stored (dead letters carry it unchanged). */
  json: string;
  /** Sequence number of the last sink call that failed with this event in it (0: none yet). */
  failedAt: number;
  lastError: Error | undefined;
  /** It failed alone while the sink was committing other events: later failures count without new proof. */
  suspect: boolean;
  /** Written or dead-lettered: its source no longer waits for it. */
  done: boolean;
}

type RawEntry = [id: string, fields: string[] | null];

/**
 * Decodes entries from XREADGROUP / XAUTOCLAIM into events. An entry of `e` fields
 * (appendBatch) gives one event per field, id `<entryId>:<index>`; an entry with a `d`
 * field one event whose id is the entry id. An entry deleted while pending comes back
 * with no fields: it is returned in `gone` (to acknowledge), not held. Entries written
 * by other tools (no `d` nor `e` field, or not JSON) reach the sink as an object of
 * their fields rather than being dropped.
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
    const n = deliveries(id);
    if (f[0] === 'e') {
      const source: Source = { id, open: f.length >> 1 };
      for (let i = 0, k = 0; i + 1 < f.length; i += 2, k++)
        held.push(hold(`${id}:${k}`, stream, f[i + 1]!, n, source));
      continue;
    }
    let json: string | undefined;
    for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === 'd') json = f[i + 1];
    if (json === undefined || !isJson(json)) {
      const obj: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) obj[f[i]!] = f[i + 1]!;
      json = JSON.stringify(obj);
    }
    held.push(hold(id, stream, json, n, { id, open: 1 }));
  }
  return { held, gone };
}

function hold(id: string, stream: string, json: string, deliveries: number, source: Source): Held {
  return {
    entry: lazyEntry(id, stream, json, deliveries),
    source,
    json,
    failedAt: 0,
    lastError: undefined,
    suspect: false,
    done: false,
  };
}

/**
 * `data` is parsed on first read: a sink that writes `json` as is (the PostgreSQL
 * sink) never pays for JSON.parse. Text that is not JSON reads as the string itself.
 */
function lazyEntry(id: string, stream: string, json: string, deliveries: number): StreamEntry {
  let parsed = false;
  let value: unknown;
  return {
    id,
    stream,
    deliveries,
    json,
    get data() {
      if (!parsed) {
        parsed = true;
        try {
          value = JSON.parse(json);
        } catch {
          value = json;
        }
      }
      return value;
    },
    set data(v: unknown) {
      parsed = true;
      value = v;
    },
  };
}

/** Cheap check that `d` holds JSON: what append wrote always does; another tool's plain text may not. */
function isJson(s: string): boolean {
  const c = s.charCodeAt(0);
  // { [ " - digits t f n: a JSON text starts with one of these.
  if (c === 123 || c === 91) return true;
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
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
