import { ValidationError } from '../util/errors.js';

/** Options shared by the Fastify and Express middleware; `Req` is the framework's request. */
export interface RateLimitHttpOptions<Req> {
  /** The bucket a request counts against: a user id, an API key, an IP. */
  key: (req: Req) => string | Promise<string>;
  /** Units a request consumes (default 1). */
  cost?: number | ((req: Req) => number);
  /** The policy name in the RateLimit headers (default "default"). */
  policy?: string;
  /** Requests for which this returns true are not counted and get no headers. */
  skip?: (req: Req) => boolean;
}

export function checkHttpOptions<Req>(opts: RateLimitHttpOptions<Req>): void {
  if (!opts || typeof opts.key !== 'function')
    throw new ValidationError('key', 'must be a function (req) => string');
  if (opts.cost !== undefined && typeof opts.cost !== 'function') {
    if (!Number.isSafeInteger(opts.cost) || opts.cost < 1) {
      throw new ValidationError('cost', `must be a positive integer, got ${String(opts.cost)}`);
    }
  }
  if (opts.policy !== undefined && (typeof opts.policy !== 'string' || opts.policy === '')) {
    throw new ValidationError('policy', 'must be a non-empty string');
  }
}

export function costOf<Req>(opts: RateLimitHttpOptions<Req>, req: Req): number {
  const cost = opts.cost;
  if (typeof cost === 'function') return (cost as (r: Req) => number)(req);
  return cost ?? 1;
}
