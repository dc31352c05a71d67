// hopper-queue/express: rate-limit middleware for Express (its types need `@types/express`).
export { type RateLimitExpressOptions, rateLimitExpress } from '../ratelimit/express.js';
