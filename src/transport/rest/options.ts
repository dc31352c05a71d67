import { ValidationError } from '../../util/errors.js';

/** An Upstash-compatible REST endpoint: Upstash itself, or `hopper rest-gateway`. */
export interface RestConnection {
  /** Base URL, `https://...` (or `http://` for a local gateway). */
  url: string;
  /** The bearer token. Never logged, scrubbed from errors. */
  token: string;
  /** Time bound of one HTTP request in ms (default 10 000). */
  timeoutMs?: number;
}

/** What a client is for; it sets how long a failing request is retried (see RETRIES). */
export type RestRole = 'command' | 'blocking' | 'producer' | 'ratelimit' | 'cache';

/**
 * Retries of a request that failed in transport or with a 5xx, with backoff. Workers wait
 * through an outage as they do over TCP; producers give up after a few so callers see it;
 * a rate limiter never retries (a check that cannot run now falls back now).
 */
export const RETRIES: Record<RestRole, number> = {
  command: Number.POSITIVE_INFINITY,
  blocking: Number.POSITIVE_INFINITY,
  producer: 3,
  cache: 1,
  ratelimit: 0,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Whether `connection` asks for the REST transport: `{ url, token }`, an `http(s)://` URL
 * (token from UPSTASH_REDIS_REST_TOKEN), or nothing given while UPSTASH_REDIS_REST_URL and
 * UPSTASH_REDIS_REST_TOKEN are set and REDIS_URL is not.
 */
export function isRestConnection(connection: unknown, env: NodeJS.ProcessEnv = process.env): boolean {
  if (connection === undefined)
    return !env.REDIS_URL && Boolean(env.UPSTASH_REDIS_REST_URL) && Boolean(env.UPSTASH_REDIS_REST_TOKEN);
  if (typeof connection === 'string') return /^https?:\/\//i.test(connection);
  return isObject(connection) && typeof connection.url === 'string' && 'token' in connection;
}

/** The checked endpoint: a typed error names the field, and never quotes the token. */
export function resolveRest(
  connection: unknown,
  env: NodeJS.ProcessEnv = process.env,
): Required<RestConnection> {
  const given: Partial<RestConnection> =
    connection === undefined
      ? { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN }
      : typeof connection === 'string'
        ? { url: connection, token: env.UPSTASH_REDIS_REST_TOKEN }
        : (connection as Partial<RestConnection>);
  let url: URL;
  try {
    url = new URL(String(given.url));
  } catch {
    throw new ValidationError('connection.url', 'must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValidationError('connection.url', `must be an http:// or https:// URL, got ${url.protocol}`);
  if (url.username || url.password || url.search)
    throw new ValidationError(
      'connection.url',
      'must not carry credentials or a query: give the token as connection.token',
    );
  if (typeof given.token !== 'string' || given.token.length === 0 || /\s/.test(given.token)) {
    // A URL given alone names no token field: the error names `connection`, as for a bad URL.
    if (connection === undefined || typeof connection === 'string')
      throw new ValidationError(
        'connection',
        'a REST URL needs a token: set UPSTASH_REDIS_REST_TOKEN, or pass { url, token }',
      );
    throw new ValidationError('connection.token', 'must be a non-empty string without spaces');
  }
  const timeoutMs = given.timeoutMs ?? 10_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new ValidationError('connection.timeoutMs', 'must be a positive integer (ms)');
  return { url: url.href.replace(/\/+$/, ''), token: given.token, timeoutMs };
}
