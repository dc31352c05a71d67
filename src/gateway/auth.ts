import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Checks a presented token against every configured one as SHA-256 digests (always 32
 * bytes, so timingSafeEqual applies whatever the length, and every token is compared):
 * timing tells nothing about which token, or which part of it, was wrong.
 */
export function tokenChecker(tokens: readonly string[]): (presented: string) => boolean {
  const known = tokens.map(digest);
  return (presented) => {
    const d = digest(presented);
    let match = false;
    for (const k of known) match = timingSafeEqual(d, k) || match;
    return match && presented.length > 0;
  };
}

/** `Authorization: Bearer <t>`, else the `_token` query parameter Upstash also accepts. */
export function presentedToken(header: unknown, query: Record<string, unknown>): string {
  if (typeof header === 'string' && /^Bearer /i.test(header)) return header.slice(7).trim();
  return typeof query._token === 'string' ? query._token : '';
}
