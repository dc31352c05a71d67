import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Routes anyone may call: load balancers probe health without a token. */
const PUBLIC = new Set(['/health']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * An onRequest hook checking `Authorization: Bearer <token>`. Tokens are compared as
 * SHA-256 digests (always 32 bytes, so timingSafeEqual applies whatever the length) and
 * every configured token is compared, so timing tells nothing about which one, or
 * which part, was wrong. Runs before the body is read: unauthenticated bodies are never parsed.
 */
export function bearerAuth(tokens: string[], extra: Record<string, string[]> = {}) {
  const digests = tokens.map(digest);
  // Routes that also accept their own tokens (a Prometheus scraper's for /metrics).
  const routeDigests = new Map(
    Object.entries(extra).map(([url, t]) => [url, [...digests, ...t.map(digest)]]),
  );
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.routeOptions.url ?? '';
    if (PUBLIC.has(url)) return;
    const header = req.headers.authorization;
    const presented = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : '';
    const d = digest(presented);
    let ok = false;
    for (const known of routeDigests.get(url) ?? digests) ok = timingSafeEqual(d, known) || ok;
    if (!ok || presented.length === 0)
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
  };
}
