import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRoute } from './api-schemas.js';
import { type ApiToken, hasScope, type Scope } from './tokens.js';

/** Who made a request: the matched token's name and scopes (set by the auth hook; with auth off, an admin). */
export interface Caller {
  name: string | undefined;
  scopes: readonly Scope[];
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** With HOPPER_AUTH=off every request may do everything, and jobs carry no owner. */
export const ANONYMOUS_ADMIN: Caller = { name: undefined, scopes: ['admin'] };

export const callerOf = (req: FastifyRequest): Caller => req.caller ?? ANONYMOUS_ADMIN;

export const isAdmin = (c: Caller) => c.scopes.includes('admin');

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The caller a presented token stands for, or undefined. Every configured token is compared
 * (as SHA-256 digests, timingSafeEqual), so timing tells nothing about which one matched.
 * Shared by the HTTP routes and the WebSocket upgrade (src/server/live/).
 */
export function tokenMatcher(tokens: ApiToken[]): (presented: string) => Caller | undefined {
  const known = tokens.map((t) => ({ digest: digest(t.secret), caller: { name: t.name, scopes: t.scopes } }));
  return (presented) => {
    const d = digest(presented);
    let match: Caller | undefined;
    for (const k of known) {
      const equal = timingSafeEqual(d, k.digest);
      match = equal ? k.caller : match;
    }
    return presented.length === 0 ? undefined : match;
  };
}

/**
 * An onRequest hook checking `Authorization: Bearer <token>`, then the route's scopes
 * (from its definition in api-schemas.ts). Tokens are compared as SHA-256 digests (always
 * 32 bytes, so timingSafeEqual applies whatever the length) and every configured token is
 * compared, so timing tells nothing about which one, or which part, was wrong. Runs before
 * the body is read: unauthenticated bodies are never parsed, and the connection is closed
 * after the 401 or 403 so a client cannot hold it by trickling the body it was refused.
 */
export function bearerAuth(tokens: ApiToken[], routes: ApiRoute[]) {
  const callerOfToken = tokenMatcher(tokens);
  const scopesOf = new Map(routes.map((r) => [`${r.method} ${r.url}`, r]));
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.routeOptions.url ?? '';
    const def = scopesOf.get(`${req.method === 'HEAD' ? 'GET' : req.method} ${url}`);
    if (def && !def.auth) return;
    const header = req.headers.authorization;
    const presented = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : '';
    const match = callerOfToken(presented);
    if (!match)
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .header('connection', 'close')
        .send({ error: 'unauthorized' });
    // Routes without a definition (404s) need a valid token and nothing more.
    if (def && !hasScope(match.scopes, def.scopes))
      return reply
        .code(403)
        .header('connection', 'close')
        .send({ error: `this token lacks the scope this route needs (${def.scopes.join(' or ')})` });
    req.caller = match;
  };
}
