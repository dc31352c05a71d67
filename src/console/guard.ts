import type { FastifyReply, FastifyRequest } from 'fastify';
import { COOKIE, readCookie, type Session, type Sessions } from './session.js';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession?: Session;
  }
}

/** With auth off (loopback only, see docs/security.md) the console acts as an admin. */
export const ANONYMOUS = (nonce: string): Session => ({
  name: 'anonymous',
  role: 'admin',
  exp: Number.MAX_SAFE_INTEGER,
  nonce,
});

/**
 * A state-changing request must come from the console's own page: the browser's
 * Sec-Fetch-Site (when sent) says same-origin, and Origin (browsers send it on every
 * POST) names this host, as the browser reached it (X-Forwarded-Host behind a proxy)
 * or one of `allowedOrigins`. A form or script on another site fails here before any
 * body is read, even on the same site (SameSite cookies do not tell ports apart).
 */
export function sameOrigin(req: FastifyRequest, allowed: string[]): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  if (allowed.includes(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = req.headers['x-forwarded-host'];
  const seen =
    (typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : undefined) ?? req.headers.host;
  return host === seen;
}

export interface GuardOptions {
  sessions: Sessions;
  auth: boolean;
  anonymous: Session;
  allowedOrigins: string[];
}

/**
 * onRequest hook of the console's API: every route but login needs a session; every
 * POST needs the same origin and the session's CSRF token in `x-hopper-csrf`; actions
 * need the admin role. All checked before the body is read.
 */
export function guard(o: GuardOptions) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.routeOptions.url ?? '';
    const post = req.method === 'POST';
    if (post && !sameOrigin(req, o.allowedOrigins))
      return reply.code(403).header('connection', 'close').send({ error: 'cross-site request refused' });
    if (path.endsWith('/api/login')) return;
    const session = o.auth ? o.sessions.open(readCookie(req.headers.cookie, COOKIE)) : o.anonymous;
    if (!session) return reply.code(401).send({ error: 'log in first', login: true });
    if (post && !path.endsWith('/api/logout')) {
      if (!o.sessions.checkCsrf(session, req.headers['x-hopper-csrf']))
        return reply.code(403).header('connection', 'close').send({ error: 'missing or wrong CSRF token' });
      const readOnly = path.endsWith('/search');
      if (!readOnly && session.role !== 'admin')
        return reply
          .code(403)
          .send({ error: 'this login is read-only: actions need a token with the admin scope' });
    }
    req.consoleSession = session;
  };
}
