import type { Redis } from 'ioredis';
import { RestRedis } from './client.js';
import { type RestConnection, type RestRole, resolveRest } from './options.js';

export { RestRedis } from './client.js';
export { RestReplyError, RestRequestError, RestUnavailableError } from './errors.js';
export { isRestConnection, type RestConnection, type RestRole, resolveRest } from './options.js';

/**
 * A REST client standing in for an ioredis client: every part of Hopper that takes a
 * `connection` uses it through the same calls (see docs/rest.md for what differs).
 */
export function createRestClient(connection: RestConnection | string | undefined, role: RestRole): Redis {
  return new RestRedis(resolveRest(connection), role) as unknown as Redis;
}
