// hopper-queue/fastify: rate-limit plugin for Fastify (its types need `fastify`).
export { type RateLimitFastifyOptions, rateLimitFastify } from '../ratelimit/fastify.js';
