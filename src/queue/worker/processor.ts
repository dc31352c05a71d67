import { UnrecoverableError } from '../../util/errors.js';
import type { Handler } from '../types.js';
import type { HeldJob } from './job.js';

export type Outcome =
  | { ok: true; job: HeldJob; result: unknown; resultJson: string }
  | { ok: false; job: HeldJob; error: Error; unrecoverable: boolean };

/**
 * Runs one attempt of the handler, turning every way it can end (return, throw,
 * throw a non-Error, return something JSON cannot carry) into an Outcome. It
 * never throws, so a bad handler cannot stop the worker. Timeouts are watched
 * by the worker (see timeouts.ts).
 */
export async function runAttempt(handler: Handler, job: HeldJob): Promise<Outcome> {
  try {
    const result = await handler(job);
    return { ok: true, job, result, resultJson: serializeResult(result) };
  } catch (err) {
    const error = err instanceof Error ? err : nonError(err);
    return { ok: false, job, error, unrecoverable: err instanceof UnrecoverableError };
  }
}

function serializeResult(result: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(result === undefined ? null : result);
  } catch (err) {
    throw new Error(`handler returned a value that is not JSON-serialisable: ${(err as Error).message}`);
  }
  if (json === undefined)
    throw new Error(`handler returned a value that is not JSON-serialisable (${typeof result})`);
  return json;
}

function nonError(v: unknown): Error {
  let shown: string;
  try {
    shown = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    shown = String(v);
  }
  return new Error(`handler threw a non-Error value: ${shown}`);
}
