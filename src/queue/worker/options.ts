import { ValidationError } from '../../util/errors.js';

/** An integer option with a default and bounds; a bad value names the field. */
export function integerOption(
  field: string,
  v: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(field, `must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

/** The longest delay setTimeout and setInterval accept (a longer one fires at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** An optional boolean option; a bad value names the field. */
export function booleanOption(field: string, v: unknown): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean')
    throw new ValidationError(field, `must be true or false, got ${String(v)}`);
  return v;
}
