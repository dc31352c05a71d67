import { HopperError } from '../../util/errors.js';
import type { JobError } from '../types.js';

/** waitUntilFinished: the job failed for good. `failedReason` is its last error's message. */
export class JobFailedError extends HopperError {
  override name = 'JobFailedError';
  readonly failedReason: string;
  constructor(
    readonly jobId: string,
    /** The job's last error as stored (undefined when the job was deleted on failure). */
    readonly error: JobError | undefined,
  ) {
    super(`job ${jobId} failed: ${error ? `${error.name}: ${error.message}` : '(its record was removed)'}`);
    this.failedReason = error?.message ?? '';
  }
}
