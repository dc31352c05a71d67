import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deniedBody, rateLimitHeaders } from './headers.js';
import type { RateLimiter } from './limiter.js';
import { checkHttpOptions, costOf, type RateLimitHttpOptions } from './middleware-options.js';

export type RateLimitFastifyOptions = RateLimitHttpOptions<FastifyRequest>;

/**
 * A Fastify plugin adding an onRequest hook: every response carries the RateLimit headers,
 * a denied request gets 429 with Retry-After and a JSON body. Register it with
 * `app.register(rateLimitFastify(limiter, { key }))`; it applies to every route of the
 * instance it is registered on (the plugin skips Fastify's encapsulation, as fastify-plugin does).
 */
export function rateLimitFastify(
  limiter: RateLimiter,
  opts: RateLimitFastifyOptions,
): (app: FastifyInstance) => Promise<void> {
  checkHttpOptions(opts);
  const policy = opts.policy ?? 'default';
  const hook = async (req: FastifyRequest, reply: FastifyReply) => {
    if (opts.skip?.(req)) return;
    const result = await limiter.limit(await opts.key(req), { cost: costOf(opts, req) });
    reply.headers({ ...rateLimitHeaders(result, limiter.policy.window, policy) });
    if (!result.allowed) return reply.code(429).send(deniedBody(result));
  };
  const plugin = async (app: FastifyInstance) => {
    app.addHook('onRequest', hook);
  };
  // Fastify's documented opt-out of encapsulation, so the hook covers the parent's routes.
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'hopper-rate-limit',
  });
  return plugin;
}
