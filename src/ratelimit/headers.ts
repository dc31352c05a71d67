import type { LimitResult } from './types.js';

/**
 * IETF draft-ietf-httpapi-ratelimit-headers-10 (Structured Fields):
 *   RateLimit-Policy: "<policy>";q=<limit>;w=<window s>
 *   RateLimit: "<policy>";r=<remaining>;t=<reset s>
 * Seconds are rounded up, so a client that waits them out is never early.
 */
export interface RateLimitHeaders {
  'RateLimit-Policy': string;
  RateLimit: string;
  'Retry-After'?: string;
}

export function seconds(ms: number): number {
  return Math.ceil(Math.max(0, ms) / 1000);
}

/** A policy name is a Structured Fields string: quotes and backslashes escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function rateLimitHeaders(result: LimitResult, windowMs: number, policy: string): RateLimitHeaders {
  const name = sfString(policy);
  const headers: RateLimitHeaders = {
    'RateLimit-Policy': `${name};q=${result.limit};w=${seconds(windowMs)}`,
    RateLimit: `${name};r=${Math.max(0, result.remaining)};t=${seconds(result.resetMs)}`,
  };
  if (!result.allowed) headers['Retry-After'] = String(Math.max(1, seconds(result.retryAfterMs)));
  return headers;
}

/** The JSON body of a 429. */
export function deniedBody(result: LimitResult): { error: string; message: string; retryAfter: number } {
  const retryAfter = Math.max(1, seconds(result.retryAfterMs));
  return {
    error: 'Too Many Requests',
    message: `Rate limit exceeded, retry in ${retryAfter} s`,
    retryAfter,
  };
}
