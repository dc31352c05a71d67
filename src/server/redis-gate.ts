import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { redactError } from '../redis/redact.js';
import { HopperError } from '../util/errors.js';
import { RETRY_AFTER_S } from './routes/track.js';
import { deadline } from './status.js';

/** A Redis-backed route answer not ready in this time is a 503, as the track route's append. */
export const REDIS_ANSWER_MS = 2000;

/** The route could not reach Redis: answered 503 with Retry-After. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export function unavailable(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .header('retry-after', String(RETRY_AFTER_S))
    .send({ error: 'Redis unavailable, retry later' });
}

/**
 * An onRequest hook (after auth): while the server's probe connection is down, answer 503
 * at once instead of queueing behind reconnect attempts (the jobs' producer clients retry
 * a command for 7 to 11 s before they give up).
 */
export function redisGate(probe: Redis) {
  return async (_req: FastifyRequest, reply: FastifyReply) => {
    if (probe.status !== 'ready') return unavailable(reply);
  };
}

/**
 * Awaits Redis-backed work for a route: Hopper's own errors (a ValidationError's 400...)
 * pass; a Redis error, or no answer within REDIS_ANSWER_MS (a hung server keeps its
 * sockets open, so the probe still says ready), becomes RedisUnavailableError.
 */
export async function fromRedis<T>(work: Promise<T>, what: string): Promise<T> {
  try {
    return await deadline(work, REDIS_ANSWER_MS, what);
  } catch (err) {
    if (err instanceof HopperError) throw err;
    throw new RedisUnavailableError(redactError(err).message);
  }
}

/** Wraps a handler: a RedisUnavailableError becomes the 503 (logged once at warn, redacted). */
export function answering503<R extends FastifyRequest>(
  handler: (req: R, reply: FastifyReply) => Promise<unknown>,
) {
  return async (req: R, reply: FastifyReply) => {
    try {
      return await handler(req, reply);
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      req.log.warn({ err: err.message, route: req.routeOptions.url }, 'Redis unavailable: answering 503');
      return unavailable(reply);
    }
  };
}
