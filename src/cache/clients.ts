import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient } from '../redis/connection.js';
import { createRestClient, isRestConnection, type RestConnection } from '../transport/rest/index.js';

/**
 * The command connection. A cache must not make callers wait through an outage: a
 * command gives up after one reconnect attempt, and once the connection has been up,
 * reads skip Redis entirely while it is down (see Cache.redisUsable).
 */
export function createCommandClient(connection: ConnectionOptions | undefined): Redis {
  if (isRestConnection(connection)) return createRestClient(connection as RestConnection, 'cache');
  return createClient(connection, 'producer', { maxRetriesPerRequest: 1, connectionName: 'hopper:cache' });
}

/** The bus connection: subscriber mode only, so it cannot share the command connection. */
export function createSubscriberClient(connection: ConnectionOptions | undefined): Redis {
  // No pub/sub over REST: it subscribes to nothing, so the memory tier is off by default (options.ts).
  if (isRestConnection(connection)) return createRestClient(connection as RestConnection, 'command');
  return createClient(connection, 'blocking', {
    maxRetriesPerRequest: null,
    connectionName: 'hopper:cache:bus',
    // The Bus resubscribes itself: ioredis's own resubscription can reject unhandled
    // ("Connection is closed") when the cache closes while it is under way.
    autoResubscribe: false,
  });
}
