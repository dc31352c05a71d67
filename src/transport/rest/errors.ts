import { HopperError } from '../../util/errors.js';

/**
 * An error Redis answered (through the REST endpoint). Named like ioredis's ReplyError so
 * code that tells Redis's answers from transport failures (err.name) works on both.
 */
export class RestReplyError extends Error {
  override name = 'ReplyError';
}

/** The endpoint refused the request itself (bad token, body too large, refused command...): not retried. */
export class RestRequestError extends HopperError {
  override name = 'RestRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`REST request refused (HTTP ${status}): ${message}`);
  }
}

/** The endpoint did not answer (or answered 5xx) after every retry. */
export class RestUnavailableError extends HopperError {
  override name = 'RestUnavailableError';
}
