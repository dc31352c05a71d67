import { HopperError } from '../util/errors.js';

/** The loader of `getOrSet` threw and no value within grace was there to serve; `cause` is what it threw. */
export class LoaderError extends HopperError {
  override name = 'LoaderError';
  constructor(
    readonly key: string,
    cause: unknown,
    message = `loader for key "${key}" failed: ${cause instanceof Error ? cause.message : String(cause)}`,
  ) {
    super(message, { cause });
  }
}

/** The loader did not settle within `loaderTimeout` ms; its `signal` was aborted and nothing was cached. */
export class LoaderTimeoutError extends LoaderError {
  override name = 'LoaderTimeoutError';
  constructor(key: string, timeoutMs: number) {
    super(key, undefined, `loader for key "${key}" did not settle within ${timeoutMs} ms`);
  }
}

/** The cache was closed; no further calls are served. */
export class CacheClosedError extends HopperError {
  override name = 'CacheClosedError';
}
