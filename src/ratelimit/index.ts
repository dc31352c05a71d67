// The Express and Fastify middleware are subpath exports (hopper-queue/express,
// hopper-queue/fastify, src/entry/): their types name those frameworks, optional peers.
export { type RateLimitHeaders, rateLimitHeaders } from './headers.js';
export { RateLimiter } from './limiter.js';
export type { RateLimitHttpOptions } from './middleware-options.js';
export {
  ALGORITHMS,
  type Algorithm,
  type LimitOptions,
  type LimitResult,
  type OnRedisError,
  type RateLimiterOptions,
} from './types.js';
export { MAX_KEY_BYTES } from './validate.js';
