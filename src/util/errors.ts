/** Base class of every error Hopper throws on purpose, so callers can tell them from bugs. */
export class HopperError extends Error {
  override name = 'HopperError';
}

/** Bad input to a public call. `field` names the offending option, e.g. `opts.delay`. Nothing was written. */
export class ValidationError extends HopperError {
  override name = 'ValidationError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Thrown by a handler to fail the job at once, skipping its remaining attempts. */
export class UnrecoverableError extends Error {
  override name = 'UnrecoverableError';
}

/** The attempt ran longer than its `timeout`. */
export class TimeoutError extends HopperError {
  override name = 'TimeoutError';
}

/** An operation that needs a job to be in some state found it elsewhere (or missing). */
export class JobStateError extends HopperError {
  override name = 'JobStateError';
}

/** A running job was cancelled (worker.cancelJob, queue.cancel): its signal fires with this reason and it fails for good. */
export class CancelledError extends HopperError {
  override name = 'CancelledError';
}

/**
 * What `job.snooze(ms)` and `job.rateLimit(ms)` return, for the handler to throw: the
 * attempt ends without counting, and the job runs again later.
 */
export class JobDeferredError extends HopperError {
  override name = 'JobDeferredError';
}
