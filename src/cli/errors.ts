import { redactError } from '../redis/redact.js';
import { HopperError } from '../util/errors.js';
import { printable } from './printable.js';

/** A failure the user can act on (bad input, Redis unreachable, refused prompt): one line, no stack. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * Passwords seen while resolving URLs. Errors are redacted against them before
 * printing, because some messages (server replies, option dumps) quote them
 * outside any URL, where `redactUrl` would not find them.
 */
const secrets = new Set<string>();

export function rememberSecret(secret: string | undefined): void {
  if (secret) secrets.add(secret);
}

/** ioredis errors that describe the server or network, not a bug in Hopper. */
const REDIS_ERROR_NAMES = new Set(['ReplyError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError']);

function isExpected(err: Error): boolean {
  if (err instanceof CliError || err instanceof HopperError) return true;
  // System errors (ECONNREFUSED, ENOENT...) carry a string `code`.
  return REDIS_ERROR_NAMES.has(err.name) || typeof (err as NodeJS.ErrnoException).code === 'string';
}

/**
 * Prints `err` to stderr: one line for expected errors, and the stack only for
 * unexpected ones (a bug report needs it). Always redacted.
 */
export function reportError(err: unknown): void {
  const original = err instanceof Error ? err : new Error(String(err));
  const clean = redactError(original, [...secrets]);
  // Messages may quote names read from Redis: no raw control characters (printable.ts).
  const message = printable(clean.message);
  if (isExpected(original)) {
    process.stderr.write(`hopper: ${message}\n`);
  } else {
    process.stderr.write(`hopper: unexpected error: ${message}\n${clean.stack ?? ''}\n`);
  }
}
