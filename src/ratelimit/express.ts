// Type-only: the middleware runs without loading express (it is a devDependency).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { deniedBody, rateLimitHeaders } from './headers.js';
import type { RateLimiter } from './limiter.js';
import { checkHttpOptions, costOf, type RateLimitHttpOptions } from './middleware-options.js';

export type RateLimitExpressOptions = RateLimitHttpOptions<Request>;

/**
 * Express middleware: sets the RateLimit headers on every response it lets through, and
 * answers 429 with Retry-After and a JSON body when the limit is reached.
 */
export function rateLimitExpress(limiter: RateLimiter, opts: RateLimitExpressOptions): RequestHandler {
  checkHttpOptions(opts);
  const policy = opts.policy ?? 'default';
  return (req: Request, res: Response, next: NextFunction) => {
    if (opts.skip?.(req)) {
      next();
      return;
    }
    Promise.resolve()
      .then(() => opts.key(req))
      .then((key) => limiter.limit(key, { cost: costOf(opts, req) }))
      .then((result) => {
        res.set(rateLimitHeaders(result, limiter.policy.window, policy) as unknown as Record<string, string>);
        if (result.allowed) next();
        else res.status(429).json(deniedBody(result));
      }, next);
  };
}
