import { ValidationError } from '../util/errors.js';

/**
 * Stream and group names end up inside a hash tag, so braces are out (they would
 * move the tag), and so are control characters and whitespace (logs, redis-cli).
 */
export function validateName(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new ValidationError(field, 'must be a non-empty string');
  if (v.length > 200) throw new ValidationError(field, `must be at most 200 characters, got ${v.length}`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\s{}\u0000-\u001f\u007f]/.test(v))
    throw new ValidationError(field, 'must not contain whitespace, control characters or braces');
  return v;
}

/** An integer option with a default and bounds; a bad value names the field. */
export function integerOption(field: string, v: unknown, fallback: number, min: number, max = 2 ** 31 - 1) {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new ValidationError(field, `must be an integer from ${min} to ${max}, got ${String(v)}`);
  return v;
}

/**
 * The event as stored: JSON. Anything JSON cannot carry faithfully is refused
 * rather than silently turned into null or dropped.
 */
export function serializeEvent(field: string, event: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(event, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${v} is not representable in JSON`);
      return v;
    });
  } catch (err) {
    throw new ValidationError(field, `is not JSON-serialisable: ${(err as Error).message}`);
  }
  if (json === undefined) throw new ValidationError(field, `is not JSON-serialisable: ${typeof event}`);
  return json;
}
