import { HopperError } from '../util/errors.js';

/** The spool holds `maxBytes` already: the add was refused and nothing was written. */
export class SpoolFullError extends HopperError {
  override name = 'SpoolFullError';
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    super(`spool ${dir} is full (maxBytes ${maxBytes}): the add was refused, nothing was written`);
  }
}

/** Another live producer holds the spool directory: one owner (and replayer) per directory. */
export class SpoolLockedError extends HopperError {
  override name = 'SpoolLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`spool ${dir} is held by process ${pid}: give each producer its own spool.dir`);
  }
}
