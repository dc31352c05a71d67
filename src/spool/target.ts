/** One producer call as the spool and the Redis scripts see it: its place in the run, and its payload. */
export interface SpoolItem<V> {
  seq: number;
  value: V;
}

/**
 * What a spooled call's replay answered: `ids` per item (null for an item whose ids are
 * the ones handed out when it was made: Redis applied it before, or stored its jobs under
 * the client-made ids), or `gap`
 * when Redis has not seen every earlier item of the run yet and wrote nothing.
 */
export type ApplyResult = { ids: (string[] | null)[] } | { gap: number };

/**
 * Where a spooled producer's calls go: a script that applies items of one run in order,
 * atomically, and keeps the run's mark (the highest sequence number applied) in Redis.
 * An item at or below the mark is skipped, so an item sent twice (a retry, a replay
 * after a crash between applying and acknowledging) is applied once; an item past
 * mark + 1 is refused unless `force` (its predecessors are gone for good).
 */
export interface SpoolTarget<V> {
  apply(run: string, items: SpoolItem<V>[], force: boolean): Promise<ApplyResult>;
  /** A call's value as the spool stores it (one line of text is not required), and back. */
  encode(value: V): string;
  decode(body: string): V;
  /** Items (jobs, events) in a value: a replay call carries about MAX_REPLAY_ITEMS of them. */
  weight(value: V): number;
  /** Redis refusals that will not go away on a retry: the call is rejected, not spooled. */
  isDefinite?(err: unknown): boolean;
}

/** A replay call stops adding records once it holds this many jobs or events (Lua argument counts, Redis's time per call). */
export const MAX_REPLAY_ITEMS = 1000;

/** How long Redis keeps a run's mark after its last call (30 days): the longest a spool may wait for replay. */
export const MARK_TTL_MS = 30 * 24 * 3600 * 1000;
