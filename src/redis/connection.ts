import { Redis, type RedisOptions } from 'ioredis';
import { createRestClient, isRestConnection, type RestConnection } from '../transport/rest/index.js';
import { ValidationError } from '../util/errors.js';
import { redactUrl } from './redact.js';
import { guardSecrets } from './secret-guard.js';

/**
 * A Redis URL (`redis://`, `rediss://`, with user, password and db) or ioredis options;
 * or an Upstash-compatible REST endpoint (`{ url, token }`, see src/transport/rest).
 */
export type ConnectionOptions = string | RedisOptions | RestConnection;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** What a role needs from its connection; see `createClient`. */
export type ClientRole = 'command' | 'blocking' | 'producer';

/**
 * Exponential backoff with full jitter, capped at 5 s: after a Redis restart many
 * workers reconnect at once, and jitter keeps them from arriving in lockstep.
 */
export function reconnectDelay(attempt: number, baseMs = 50, capMs = 5000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Turns the user's `connection` into ioredis options (URL parsed, env default applied). */
export function resolveConnection(connection?: ConnectionOptions): RedisOptions {
  const source = connection ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (isRestConnection(source))
    throw new ValidationError(
      'connection',
      'this part needs Redis over TCP, not a REST endpoint (see docs/rest.md)',
    );
  if (typeof source !== 'string') return { ...(source as RedisOptions) };
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new ValidationError('connection', `not a valid Redis URL: ${redactUrl(source)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ValidationError('connection', `URL scheme must be redis:// or rediss://, got ${url.protocol}`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new ValidationError('connection', 'database in URL path must be an integer');
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    db,
  };
  if (url.username) options.username = decodeComponent(url.username, 'user name');
  if (url.password) options.password = decodeComponent(url.password, 'password');
  if (url.protocol === 'rediss:') options.tls = {};
  return options;
}

/** Percent-decoding; a stray `%` is a typed error that never quotes the value. */
function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ValidationError(
      'connection',
      `the ${what} in the URL is not valid percent-encoding (write % as %25)`,
    );
  }
}

/** `host:port/db` for messages: never the password. */
export function describeConnection(options: RedisOptions): string {
  const user = options.username ? `${options.username}@` : '';
  return `${user}${options.host ?? '127.0.0.1'}:${options.port ?? 6379}/${options.db ?? 0}`;
}

/**
 * One ioredis client for one role. Workers' clients wait through outages
 * (`maxRetriesPerRequest: null`) so a Redis restart never stops them; producers
 * give up on a command after a few reconnect attempts so callers see the outage.
 */
export function createClient(connection: ConnectionOptions | undefined, role: ClientRole): Redis {
  // The REST transport: same calls, over HTTP (docs/rest.md).
  if (isRestConnection(connection)) return createRestClient(connection as RestConnection, role);
  const base = resolveConnection(connection);
  // Errors and 'error' events of this client never carry its password (secret-guard.ts).
  return guardSecrets(
    new Redis({
      retryStrategy: (attempt) => reconnectDelay(attempt),
      maxRetriesPerRequest: role === 'producer' ? 3 : null,
      enableReadyCheck: true,
      connectionName: `hopper:${role}`,
      ...base,
      // The library's own settings win: they are what the guarantees rest on.
      lazyConnect: false,
    }),
  );
}
