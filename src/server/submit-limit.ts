import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { deniedBody, rateLimitHeaders } from '../ratelimit/headers.js';
import { RateLimiter } from '../ratelimit/limiter.js';
import type { ServerConfig } from './config.js';
import type { JobQueues } from './queues.js';

const POLICY = 'submit';

/**
 * Per-token limit on job submissions (HOPPER_SUBMIT_LIMIT per HOPPER_SUBMIT_WINDOW,
 * approximate sliding window: two counters per token, whatever the limit), with the toolkit's RateLimiter and its IETF headers. The bucket is
 * a digest of the token, never the token itself (keys are visible to anyone with Redis
 * access); with auth off, the client address. Each check counts into the queue's
 * metrics as a hit, and as blocked when refused.
 */
export class SubmitLimit {
  readonly limiter: RateLimiter;

  constructor(
    config: ServerConfig,
    private readonly queues: JobQueues,
  ) {
    this.limiter = new RateLimiter({
      connection: config.redisUrl,
      prefix: 'hopper:rl:submit',
      algorithm: 'sliding-window-approx',
      limit: config.submitLimit,
      window: config.submitWindow,
    });
  }

  /** A route onRequest hook: runs after auth, before the body is read. */
  readonly hook = async (req: FastifyRequest, reply: FastifyReply) => {
    const result = await this.limiter.limit(bucketOf(req));
    const metrics = (await this.queues.get((req.params as { queue: string }).queue))?.metrics;
    metrics?.count('rl_hits');
    reply.headers({ ...rateLimitHeaders(result, this.limiter.policy.window, POLICY) });
    if (result.allowed) return;
    metrics?.count('rl_blocked');
    return reply.code(429).send(deniedBody(result));
  };

  close(): Promise<void> {
    return this.limiter.close();
  }
}

function bucketOf(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^Bearer /i.test(header))
    return `t:${createHash('sha256').update(header.slice(7).trim()).digest('hex').slice(0, 32)}`;
  return `ip:${req.ip}`;
}
