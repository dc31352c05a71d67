import { createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../server/config.js';
import type { Logger } from '../util/logger.js';
import { requireOptional } from '../util/optional.js';
import { type ConsoleOptions, hopperConsole } from './plugin.js';

// Loaded when a console server is made, not at import: Fastify is an optional peer, and
// `import 'hopper-queue/console'` without it must fail naming it (MissingDependencyError),
// not with Node's module-not-found.
function loadFastify(): typeof import('fastify') {
  return requireOptional<typeof import('fastify')>('fastify', 'The web console (hopper-queue/console)');
}

/** Request and header deadlines like `hopper serve` (docs/security.md): a slow client cannot hold a socket. */
function fastifyOptions(
  c: Pick<ServerConfig, 'requestTimeout' | 'keepAliveTimeout' | 'headersTimeout'>,
  logger: Logger,
  LogController: typeof import('fastify').LogController,
) {
  return {
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    forceCloseConnections: 'idle' as const,
    requestTimeout: c.requestTimeout,
    keepAliveTimeout: c.keepAliveTimeout,
    http: { headersTimeout: c.headersTimeout, connectionsCheckingInterval: Math.min(1000, c.headersTimeout) },
  };
}

/** `hopper dashboard`: the console alone, configured like `hopper serve` (same tokens, Redis, port, path). */
export function createConsoleServer(config: ServerConfig, logger: Logger): FastifyInstance {
  const path = config.dashboardPath ?? '/dashboard';
  const { default: Fastify, LogController } = loadFastify();
  const app = Fastify(fastifyOptions(config, logger, LogController)) as unknown as FastifyInstance;
  app.removeContentTypeParser('text/plain');
  app.register(
    hopperConsole({
      connection: config.redisUrl,
      tokens: config.tokens,
      auth: config.auth,
      intervalMs: config.dashboardInterval,
      logger,
    }),
    { prefix: path },
  );
  app.get('/', (_req, reply) => reply.redirect(`${path.slice(1)}/`, 302));
  return app;
}

/**
 * The console as a handler for an Express (or plain node:http) app. Mount it at
 * `basePath` before any body parser: `app.use('/ops/hopper', consoleHandler({ basePath: '/ops/hopper', ... }))`.
 */
export function consoleHandler(options: ConsoleOptions & { basePath: string }) {
  let handler: ((req: unknown, res: unknown) => void) | undefined;
  const { default: Fastify } = loadFastify();
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    serverFactory: (h) => {
      handler = h as (req: unknown, res: unknown) => void;
      // A server that never listens: Express owns the socket.
      return createServer();
    },
  }) as unknown as FastifyInstance;
  app.removeContentTypeParser('text/plain');
  app.register(hopperConsole(options), { prefix: options.basePath });
  const ready = app.ready();
  const fn = (req: { url?: string; originalUrl?: string }, res: unknown, next?: (err?: unknown) => void) => {
    // Express strips the mount path from req.url; the console's routes carry it.
    if (req.originalUrl) req.url = req.originalUrl;
    ready.then(() => handler!(req, res), next ?? (() => {}));
  };
  return Object.assign(fn, { close: () => app.close() });
}
