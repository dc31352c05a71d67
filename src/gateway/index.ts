import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient, resolveConnection } from '../redis/connection.js';
import { buildGateway, loadGatewayFastify } from './app.js';
import { type GatewayConfig, gatewayConfig } from './config.js';

export { DANGEROUS } from './commands.js';
export { GATEWAY_DEFAULTS, type GatewayConfig, gatewayConfig, gatewayConfigFromEnv } from './config.js';

export interface RestGateway {
  readonly app: FastifyInstance;
  readonly redis: Redis;
  /** Listens; resolves to the base URL clients use (`http://host:port`). */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * `hopper rest-gateway` as a library: Upstash's REST protocol in front of the Redis at
 * `connection`, so code written for `@upstash/redis` (or Hopper's REST transport) runs
 * against any Redis, without Docker. See docs/rest.md for the security model.
 */
export function createRestGateway(
  connection: ConnectionOptions | undefined,
  config: Parameters<typeof gatewayConfig>[0] | GatewayConfig,
): RestGateway {
  const checked = gatewayConfig(config);
  // Before connecting: without Fastify nothing is opened (MissingDependencyError names it).
  loadGatewayFastify();
  // A producer's client: while Redis is away, commands fail after a few reconnect tries (503).
  // RESP2: replies in the shapes Upstash sends (RESP3 would give maps and pairs).
  const redis = createClient({ ...resolveConnection(connection), protocol: 2 }, 'producer');
  redis.on('error', () => {});
  const app = buildGateway(redis, checked);
  return {
    app,
    redis,
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address();
      if (!address || typeof address === 'string') throw new Error('the gateway is not listening on TCP');
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${shown}:${address.port}`;
    },
    async close() {
      await app.close();
      redis.disconnect();
    },
  };
}
