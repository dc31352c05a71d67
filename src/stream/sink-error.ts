/**
 * A sink's way to say "this batch failed because of what is in it", as opposed to "I am
 * down": the processor then isolates the events at fault (bisecting the batch) and
 * dead-letters them after maxDeliveries, and never takes the failure for an outage,
 * which would retry the whole batch forever while one bad event stays in it.
 */
export class SinkDataError extends Error {
  override name = 'SinkDataError';
  constructor(
    message: string,
    /** The database's error code, e.g. PostgreSQL's SQLSTATE `22P05`. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * SQLSTATE classes about the data: 22 data exception (bad JSON, NUL, time zone out of
 * range), 23 integrity constraint violation, 54 program limit exceeded (a value too
 * deep or too large). Retrying the same rows fails the same way.
 */
const DATA_SQLSTATE = /^(22|23|54)[0-9A-Z]{3}$/;

/** True for a SinkDataError, or any error carrying a data-class SQLSTATE in `code` (pg, PGlite). */
export function isDataError(err: unknown): boolean {
  if (err instanceof SinkDataError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DATA_SQLSTATE.test(code);
}
