import { HopperError } from '../util/errors.js';

/** Base of every lock failure; `resource` names the lock. */
export class LockError extends HopperError {
  override name = 'LockError';
  constructor(
    readonly resource: string,
    message: string,
  ) {
    super(message);
  }
}

/** acquire() waited `waitMs` and the lock stayed taken. */
export class LockTimeoutError extends LockError {
  override name = 'LockTimeoutError';
}

/** The caller no longer holds the lock: it expired, or another holder has it now. */
export class LockLostError extends LockError {
  override name = 'LockLostError';
}
