import { ValidationError } from '../util/errors.js';

export type FsyncPolicy = 'always' | 'interval' | 'never';

/** `spool` on Queue and EventStream: where adds go while Redis does not answer. */
export interface SpoolOptions {
  /** Directory of this producer's spool; one producer per directory (a lock file holds it). */
  dir: string;
  /** Bytes on disk past which adds are refused with SpoolFullError. Default 256 MiB. */
  maxBytes?: number;
  /**
   * When spooled adds reach the disk: `always` before the add resolves (survives power loss),
   * `interval` within a second (like Redis's appendfsync everysec), `never` when the OS
   * decides. Every policy survives a killed process. Default `interval`.
   */
  fsync?: FsyncPolicy;
  /** Milliseconds a call to Redis may go unanswered before its adds are spooled (100 .. 60,000). Default 1000. */
  timeout?: number;
}

export interface CheckedSpoolOptions {
  dir: string;
  maxBytes: number;
  fsync: FsyncPolicy;
  timeout: number;
}

const KEYS = ['dir', 'maxBytes', 'fsync', 'timeout'];
const POLICIES: FsyncPolicy[] = ['always', 'interval', 'never'];

/** Checks `spool` options; `field` is how the caller names them (`spool`). */
export function validateSpoolOptions(field: string, options: unknown): CheckedSpoolOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new ValidationError(field, 'must be an object { dir, maxBytes?, fsync?, timeout? }');
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!KEYS.includes(k))
      throw new ValidationError(`${field}.${k}`, `unknown option; known: ${KEYS.join(', ')}`);
  if (typeof o.dir !== 'string' || o.dir.trim() === '' || o.dir.includes('\0'))
    throw new ValidationError(`${field}.dir`, 'must be a non-empty directory path');
  const int = (name: string, value: unknown, min: number, max: number, dflt: number) => {
    if (value === undefined) return dflt;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
      throw new ValidationError(`${field}.${name}`, `must be an integer between ${min} and ${max}`);
    return value;
  };
  const fsync = o.fsync ?? 'interval';
  if (!POLICIES.includes(fsync as FsyncPolicy))
    throw new ValidationError(`${field}.fsync`, `must be one of ${POLICIES.join(', ')}`);
  return {
    dir: o.dir,
    maxBytes: int('maxBytes', o.maxBytes, 64 * 1024, Number.MAX_SAFE_INTEGER, 256 * 1024 * 1024),
    fsync: fsync as FsyncPolicy,
    timeout: int('timeout', o.timeout, 100, 60_000, 1000),
  };
}
