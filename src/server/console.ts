import type { FastifyInstance } from 'fastify';
import { hopperConsole } from '../console/plugin.js';
import type { Logger } from '../util/logger.js';
import type { ServerConfig } from './config.js';

/** The web console at config.dashboardPath, with the server's tokens and Redis (docs/console.md). */
export function mountConsole(app: FastifyInstance, config: ServerConfig, logger: Logger): void {
  app.register(
    hopperConsole({
      connection: config.redisUrl,
      tokens: config.tokens,
      auth: config.auth,
      intervalMs: config.dashboardInterval,
      logger,
    }),
    { prefix: config.dashboardPath! },
  );
}
