import { TimeoutError, UnrecoverableError } from '../../util/errors.js';
import type { Handler } from '../types.js';
import type { HeldJob } from './job.js';

export type Outcome =
  | { ok: true; job: HeldJob; result: unknown; resultJson: string }
  | { ok: false; job: HeldJob; error: Error; unrecoverable: boolean };

/**
 * Runs one attempt: the handler with its timeout, turning every way it can end
 * (return, throw, throw a non-Error, return something JSON cannot carry, never
 * settle) into an Outcome. It never throws, so a bad handler cannot stop the worker.
 */
export async function runAttempt(handler: Handler, job: HeldJob, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const running = Promise.resolve().then(() => handler(job));
    let result: unknown;
    if (timeoutMs > 0) {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new TimeoutError(`job ${job.id} timed out after ${timeoutMs} ms`);
          job.controller.abort(err);
          reject(err);
        }, timeoutMs);
      });
      running.catch(() => {}); // a handler that fails after its timeout is already accounted for
      result = await Promise.race([running, timeout]);
    } else {
      result = await running;
    }
    return { ok: true, job, result, resultJson: serializeResult(result) };
  } catch (err) {
    const error = err instanceof Error ? err : nonError(err);
    return { ok: false, job, error, unrecoverable: err instanceof UnrecoverableError };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function serializeResult(result: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(result === undefined ? null : result);
  } catch (err) {
    throw new Error(`handler returned a value that is not JSON-serialisable: ${(err as Error).message}`);
  }
  if (json === undefined) throw new Error(`handler returned a value that is not JSON-serialisable (${typeof result})`);
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
