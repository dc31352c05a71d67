import { ValidationError } from '../util/errors.js';

/** Longest channel name or pattern, in bytes. Redis allows far more; names this long are mistakes. */
export const MAX_CHANNEL_BYTES = 1024;

export function validateChannelName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new ValidationError(field, 'must be a non-empty string');
  if (Buffer.byteLength(name) > MAX_CHANNEL_BYTES)
    throw new ValidationError(field, `must be at most ${MAX_CHANNEL_BYTES} bytes`);
  return name;
}

/** JSON text of `message`, or a ValidationError naming `message`: nothing is published. */
export function encodeMessage(message: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(message);
  } catch (err) {
    throw new ValidationError('message', `cannot be serialised as JSON: ${(err as Error).message}`);
  }
  // JSON.stringify answers undefined (not a string) for undefined, functions and symbols.
  if (text === undefined)
    throw new ValidationError('message', `cannot be serialised as JSON: ${typeof message}`);
  return text;
}

export function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new ValidationError(field, `must be a positive integer, got ${String(value)}`);
  return value;
}

/** Glob characters in the prefix must match themselves inside a PSUBSCRIBE pattern. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
