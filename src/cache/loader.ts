import { LoaderError, LoaderTimeoutError } from './errors.js';

/** What getOrSet calls on a miss. `signal` aborts when the loader times out. */
export type Loader<T> = (signal: AbortSignal) => T | Promise<T>;

/**
 * Runs a loader with a deadline. A throw becomes LoaderError (the original as `cause`),
 * a loader still pending at the deadline LoaderTimeoutError; its late result is ignored.
 */
export async function runLoader<T>(loader: Loader<T>, key: string, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new LoaderTimeoutError(key, timeoutMs));
    }, timeoutMs);
  });
  try {
    const run = (async () => loader(controller.signal))();
    // The loader may reject after the deadline won: that rejection is expected, not unhandled.
    run.catch(() => {});
    return await Promise.race([run, deadline]);
  } catch (err) {
    if (err instanceof LoaderTimeoutError) throw err;
    throw new LoaderError(key, err);
  } finally {
    clearTimeout(timer);
  }
}
