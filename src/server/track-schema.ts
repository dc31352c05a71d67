import { ValidationError } from '../util/errors.js';

/** One tracking event as stored: the request's session_id plus the event's own fields. */
export type TrackEvent = Record<string, unknown> & {
  session_id: string;
  timestamp: string;
  event_type: string;
  page_url: string;
  target_element: string;
};

/** Thrown for a request with more events than TRACK_MAX_EVENTS: a 400 that names `events`. */
export class TooManyEventsError extends ValidationError {
  override name = 'TooManyEventsError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * ISO-8601 date-time with a zone, the subset PostgreSQL's timestamptz reads the same
 * way: anything looser would be accepted here and then fail in the sink as a poison entry.
 * Zone offsets stop at 15:59, PostgreSQL's limit.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?([Zz]|[+-](?:0\d|1[0-5]):?[0-5]\d)$/;
const MAX_STRING = 8192;
/** Levels of objects and arrays below an event's own fields: JSON.stringify and jsonb recurse per level. */
export const MAX_DEPTH = 32;

/**
 * Checks a POST /api/v1/track body by hand (cheaper than a schema pass, and the field
 * paths are exactly ours). Returns the session id and the events as given; throws a
 * ValidationError naming the first bad field. Nothing is appended unless the whole body passes.
 */
export function checkTrackBody(
  body: unknown,
  maxEvents: number,
): { sessionId: string; events: Record<string, unknown>[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ValidationError('body', 'must be a JSON object with session_id and events');
  const { session_id: sessionId, events } = body as Record<string, unknown>;
  if (typeof sessionId !== 'string' || !UUID.test(sessionId))
    throw new ValidationError('session_id', 'must be a UUID string');
  if (!Array.isArray(events)) throw new ValidationError('events', 'must be an array of events');
  if (events.length === 0) throw new ValidationError('events', 'must hold at least one event');
  if (events.length > maxEvents)
    throw new TooManyEventsError('events', `at most ${maxEvents} events per request, got ${events.length}`);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Record<string, unknown> | null;
    const at = `events[${i}]`;
    if (e === null || typeof e !== 'object' || Array.isArray(e))
      throw new ValidationError(at, 'must be an object');
    if (!isTimestamp(e.timestamp))
      throw new ValidationError(
        `${at}.timestamp`,
        'must be an ISO-8601 date-time with a zone (Z, or an offset up to ±15:59), e.g. 2025-01-19T10:00:00Z',
      );
    text(e.event_type, `${at}.event_type`, false);
    text(e.page_url, `${at}.page_url`, true);
    text(e.target_element, `${at}.target_element`, true);
    const bad = storable(e, 0);
    // Too deep: the event's field holding it is named, not the path down to the cut.
    if (bad) throw new ValidationError(`${at}${bad.deep ? topField(bad.path) : bad.path}`, bad.reason);
  }
  return { sessionId, events: events as Record<string, unknown>[] };
}

/** The events to store: each event's own fields plus the request's session_id, which wins over an event field of that name. */
export function parseTrackBody(body: unknown, maxEvents: number): TrackEvent[] {
  const { sessionId, events } = checkTrackBody(body, maxEvents);
  return events.map((e) => ({ ...e, session_id: sessionId }) as TrackEvent);
}

/**
 * parseTrackBody's events as JSON text, as the stream stores them, without copying each
 * event: the session_id is spliced onto the event's own JSON. The body came from
 * JSON.parse, so plain JSON.stringify is exact (no BigInt, cycles or NaN to refuse).
 */
export function trackEventsJson(body: unknown, maxEvents: number): string[] {
  const { sessionId, events } = checkTrackBody(body, maxEvents);
  const session = JSON.stringify(sessionId);
  return events.map((e) => {
    if (Object.hasOwn(e, 'session_id')) return JSON.stringify({ ...e, session_id: sessionId });
    const json = JSON.stringify(e);
    // Every event has its required fields, so json is never '{}'.
    return `${json.slice(0, -1)},"session_id":${session}}`;
  });
}

function text(v: unknown, field: string, emptyOk: boolean): void {
  if (typeof v !== 'string') throw new ValidationError(field, 'must be a string');
  if (!emptyOk && v.length === 0) throw new ValidationError(field, 'must not be empty');
  if (v.length > MAX_STRING) throw new ValidationError(field, `must be at most ${MAX_STRING} characters`);
}

/**
 * Where a value holds what PostgreSQL's jsonb refuses or JSON.stringify cannot nest:
 * a NUL character or a lone UTF-16 surrogate in a string or key, or nesting deeper than
 * MAX_DEPTH. The path (`.a[2].b`) is built only on the way back from a bad value.
 */
function storable(v: object, depth: number): Unstorable | undefined {
  if (depth > MAX_DEPTH)
    return {
      path: '',
      reason: `must not nest objects and arrays deeper than ${MAX_DEPTH} levels`,
      deep: true,
    };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = check(v[i], depth);
      if (bad) return { ...bad, path: `[${i}]${bad.path}` };
    }
    return undefined;
  }
  for (const k in v) {
    const key = /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
    const badKey = badText(k);
    if (badKey) return { path: key, reason: `key must not contain ${badKey}` };
    const bad = check((v as Record<string, unknown>)[k], depth);
    if (bad) return { ...bad, path: `${key}${bad.path}` };
  }
  return undefined;
}

interface Unstorable {
  path: string;
  reason: string;
  deep?: boolean;
}

function check(v: unknown, depth: number): Unstorable | undefined {
  if (typeof v === 'string') {
    const reason = badText(v);
    return reason ? { path: '', reason: `must not contain ${reason}` } : undefined;
  }
  return v !== null && typeof v === 'object' ? storable(v, depth + 1) : undefined;
}

/** `.a[2].b` -> `.a`; `["x y"].c` -> `["x y"]`. */
function topField(path: string): string {
  return /^(\.[A-Za-z_$][\w$]*|\["(?:[^"\\]|\\.)*"\])/.exec(path)?.[1] ?? path;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What in a string PostgreSQL cannot store as text or jsonb, if anything. */
function badText(s: string): string | undefined {
  if (s.includes('\u0000')) return 'a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isTimestamp(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > 40) return false;
  const m = ISO.exec(v);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && !leap ? 28 : DAYS[month - 1]!);
}
