import { HopperError } from '../util/errors.js';

/**
 * An add() or addBulk() whose batch could not be confirmed before `addTimeout`: Redis
 * did not answer (down, stopped, unreachable), so the jobs may or may not be stored.
 * Pass the error to `queue.resolveAdd(err)` once Redis answers again: it resolves to
 * the ids if the batch was stored, or null, after making sure it never will be.
 * `jobIds` holds the jobIds the caller gave (undefined for generated ids).
 */
export class AddOutcomeUnknownError extends HopperError {
  override name = 'AddOutcomeUnknownError';
  constructor(
    /** The batch's request id: add.lua stores its reply under it. */
    readonly requestId: string,
    readonly jobIds: (string | undefined)[],
    cause: unknown,
    /** Picks this call's ids out of the batch's stored reply (see AddBatcher). */
    readonly pick: (reply: [number, ...string[]]) => string[],
  ) {
    super(
      `add outcome unknown: Redis did not confirm request ${requestId} within addTimeout (${
        (cause as Error)?.message ?? String(cause)
      }); the jobs may or may not be stored: queue.resolveAdd(err) tells which`,
      { cause },
    );
  }
}

/** An add() made after `queue.close()` was called: nothing was written. */
export class QueueClosedError extends HopperError {
  override name = 'QueueClosedError';
}
