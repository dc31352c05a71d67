import { readFileSync } from 'node:fs';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createClient, describeConnection, parseConnection } from '../redis/connection.js';
import type { EventStream } from '../stream/event-stream.js';
import { type PostgresSink, postgresSink } from '../stream/postgres-sink.js';
import { StreamProcessor } from '../stream/processor.js';
import { ValidationError } from '../util/errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { requireOptional } from '../util/optional.js';
import { type ApiRoute, apiRoutes } from './api-schemas.js';
import { bearerAuth } from './auth.js';
import { allTokens, describeConfig, type ServerConfig } from './config.js';
import { mountConsole } from './console.js';
import {
  clientErrorHandler,
  frameworkErrors,
  MAX_PARAM_LENGTH,
  refuseWhileClosing,
} from './framework-errors.js';
import { jobEventsRoute } from './live/job-sse.js';
import { JobWatch } from './live/job-watch.js';
import { mountWebSocket } from './live/websocket.js';
import { JobQueues } from './queues.js';
import { healthRoute } from './routes/health.js';
import { jobsRoutes } from './routes/jobs.js';
import { metricsRoutes } from './routes/metrics.js';
import { pullRoutes } from './routes/pull.js';
import { trackRoute } from './routes/track.js';
import { DepthWatch, deadline, ProgressWatch, readStatus, type StatusDeps } from './status.js';
import { SubmitLimit } from './submit-limit.js';
import { openTrackStream } from './track-spool.js';

export interface ServerOptions {
  /** Default: pino JSON lines on stderr. */
  logger?: Logger;
  /** A sink to use instead of one built from the config (tests, custom databases). Closed by close(). */
  sink?: PostgresSink;
  /**
   * Without a processor (config.processor off): how /health checks the database. An HTTP
   * worker of `hopper serve` asks its primary, which holds the sink. Unset: 'disabled'.
   */
  databaseCheck?: () => Promise<unknown>;
}

export interface HopperServer {
  readonly app: FastifyInstance;
  readonly config: ServerConfig;
  readonly stream: EventStream;
  readonly processor: StreamProcessor | undefined;
  readonly sink: PostgresSink | undefined;
  readonly logger: Logger;
  /** The queues the jobs API has opened. */
  readonly queues: JobQueues;
  /** Every route registered, `METHOD url` (HEAD routes included), for checks against the OpenAPI document. */
  readonly routes: string[];
  /** Waits for Redis and the database (table created); throws a clear error when either does not answer in time. */
  ready(timeoutMs?: number, databaseTimeoutMs?: number): Promise<void>;
  /** Listens on config.host:config.port; resolves to the address. */
  listen(): Promise<string>;
  /** Graceful stop; see shutdown.ts. Safe to call twice. */
  close(): Promise<void>;
}

/** How often the depth monitor looks, so a warning is logged even when nobody calls /health. */
const MONITOR_INTERVAL_MS = 5000;
const READY_TIMEOUT_MS = 10_000;
/** PGlite's first start runs initdb in WebAssembly: many seconds on a busy machine. */
const DATABASE_READY_TIMEOUT_MS = 60_000;

/**
 * Builds the ingestion server: Fastify with the track and health routes, the 'track'
 * EventStream, and (unless config.processor is off) a StreamProcessor writing batches
 * to PostgreSQL, as seed 004's single binary does. Nothing listens until listen().
 */
export function createServer(config: ServerConfig, options: ServerOptions = {}): HopperServer {
  // First: without Fastify nothing is opened (no Redis connection left behind by the error).
  const fastify = loadFastify();
  if (config.websocket === 'on')
    requireOptional('ws', 'WebSocket updates on `hopper serve` (HOPPER_WEBSOCKET=on)');
  const logger = options.logger ?? defaultLogger('hopper:server');
  const stream = openTrackStream(config.stream, config.trackSpoolDir, (spool) => ({
    connection: config.redisUrl,
    maxLen: config.streamMaxLen > 0 ? config.streamMaxLen : undefined,
    logger,
    spool: spool ? { dir: spool, maxBytes: config.trackSpoolMaxBytes } : undefined,
  }));
  const probe: Redis = createClient(config.redisUrl, 'producer');
  probe.on('error', () => {}); // its status is what matters; reconnects on its own
  const sink = config.processor
    ? (options.sink ??
      postgresSink({ databaseUrl: config.databaseUrl ?? '', dataDir: config.pgliteDir, table: config.table }))
    : undefined;
  const processor = sink
    ? new StreamProcessor(stream, config.group, {
        connection: config.redisUrl,
        sink,
        consumers: config.workerCount,
        batchSize: config.batchSize,
        flushInterval: config.processInterval,
        shutdownTimeout: config.shutdownTimeout,
        deadMaxLen: config.streamDeadMaxLen,
        logger,
      })
    : undefined;

  const routes: string[] = [];
  const api = apiRoutes(config.metricsDays);
  const app = buildApp(fastify, config, logger, routes, api);
  const deps: StatusDeps = {
    probe,
    stream,
    group: config.group,
    sink,
    database: options.databaseCheck,
    watch: new DepthWatch(config.queueDepthWarn, logger),
    progress: new ProgressWatch(config.stallTimeout),
  };
  healthRoute(app, deps);
  trackRoute(app, { stream, probe, maxEvents: config.trackMaxEvents });
  const queues = new JobQueues(config, logger, probe);
  const limit = config.submitLimit > 0 ? new SubmitLimit(config, queues) : undefined;
  jobsRoutes(app, api, { queues, limit, probe, jobTtl: config.jobTtl });
  pullRoutes(app, api, { queues, probe, redisUrl: config.redisUrl });
  metricsRoutes(app, api, { client: probe, queues, stream, version: VERSION });
  if (config.dashboardPath) mountConsole(app, config, logger);
  // Job status as it changes, over SSE and WebSocket: one QueueEvents per watched queue for both.
  const watch = new JobWatch(config.redisUrl, logger);
  jobEventsRoute(app, api, { queues, watch, probe });
  mountWebSocket(app, config, queues, watch, logger);

  let monitoring = false;
  const monitor = setInterval(() => {
    if (monitoring) return;
    monitoring = true;
    readStatus(deps)
      .catch(() => {})
      .finally(() => {
        monitoring = false;
      });
  }, MONITOR_INTERVAL_MS);
  monitor.unref();

  let closing: Promise<void> | undefined;
  const server: HopperServer = {
    app,
    config,
    stream,
    processor,
    sink,
    logger,
    queues,
    routes,
    async ready(timeoutMs = READY_TIMEOUT_MS, databaseTimeoutMs = DATABASE_READY_TIMEOUT_MS) {
      const label = describeConnection(parseConnection(config.redisUrl));
      await deadline(waitReady(probe), timeoutMs, `connecting to Redis at ${label}`);
      logger.info({ redis: label }, 'Successfully connected to Redis');
      if (sink) {
        await deadline(sink.ready(), databaseTimeoutMs, 'connecting to the database');
        logger.info({ database: sink.backend }, 'Successfully connected to database');
      }
      await app.ready();
    },
    async listen() {
      logger.info(describeConfig(config), 'configuration');
      if (!config.auth)
        logger.warn(
          { host: config.host },
          `HOPPER_AUTH=off: every request is served without a token, on ${config.host} (loopback unless HOST is set)`,
        );
      const address = await app.listen({ host: config.host, port: config.port });
      logger.info(
        { address },
        `Server starting on ${config.host}:${(app.server.address() as { port: number }).port}`,
      );
      return address;
    },
    close() {
      closing ??= import('./shutdown.js').then(({ shutdown }) =>
        shutdown({
          app,
          stream,
          processor,
          sink,
          probe,
          monitor,
          logger,
          timeout: config.shutdownTimeout,
          // After the HTTP server: their last metrics flush and connections.
          closers: [() => watch.close(), () => queues.close(), () => limit?.close() ?? Promise.resolve()],
        }),
      );
      return closing;
    },
  };
  return server;
}

function waitReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// Loaded when a server is made, not at import: Fastify is an optional peer, and the CLI's
// other commands (which import this module) must run without it.
function loadFastify(): typeof import('fastify') {
  return requireOptional<typeof import('fastify')>(
    'fastify',
    'The HTTP server (hopper-queue/server, `hopper serve`)',
  );
}

function buildApp(
  fastify: typeof import('fastify'),
  config: ServerConfig,
  logger: Logger,
  routes: string[],
  api: ApiRoute[],
): FastifyInstance {
  const { default: Fastify, LogController } = fastify;
  const app = Fastify({
    loggerInstance: logger,
    // One log line per request would cost more than the append itself at the target rates.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // In-flight requests finish; idle keep-alive sockets close so close() does not wait on them.
    forceCloseConnections: 'idle',
    // Framework errors in the documented error shape (framework-errors.ts).
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    // A slow client cannot hold a socket: the whole request, its headers, and an idle
    // keep-alive connection each have a deadline (docs/security.md).
    requestTimeout: config.requestTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    http: {
      headersTimeout: config.headersTimeout,
      // Node checks those deadlines this often (its default, 30 s, would let a trickle run that much over).
      connectionsCheckingInterval: Math.min(1000, config.headersTimeout),
    },
  }) as unknown as FastifyInstance;
  refuseWhileClosing(app);
  // Connections over the cap are closed as they arrive.
  app.server.maxConnections = config.maxConnections;
  // Only application/json: text/plain bodies would otherwise reach the route as strings.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRoute', (r) => {
    // The console's routes are its own (docs/console.md), not the HTTP API the OpenAPI document describes.
    const path = config.dashboardPath;
    if (path && (r.url === path || r.url.startsWith(`${path}/`))) return;
    for (const m of [r.method].flat()) routes.push(`${m} ${r.url}`);
  });
  if (config.auth) {
    const bearer = bearerAuth(allTokens(config), api);
    // The console logs in with the same tokens and has its own session check (src/console/guard.ts).
    const dashboard = config.dashboardPath;
    app.addHook('onRequest', async (req, reply) => {
      if (
        dashboard &&
        (req.url === dashboard || req.url.startsWith(`${dashboard}/`) || req.url.startsWith(`${dashboard}?`))
      )
        return;
      return bearer(req, reply);
    });
  }
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ValidationError) return reply.code(400).send({ error: err.message, field: err.field });
    if (err.validation?.[0]) {
      // A params or query-string schema failed (api-schemas.ts): name the field like ValidationError does.
      const v = err.validation[0];
      const field =
        (v.params as { missingProperty?: string }).missingProperty ??
        v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return reply.code(400).send({ error: `${field || err.validationContext}: ${v.message}`, field });
    }
    const status = err.statusCode ?? 500;
    if (status === 413)
      return reply.code(413).send({ error: `request body over the limit of ${config.bodyLimit} bytes` });
    if (status === 415)
      return reply.code(415).send({ error: 'unsupported content type: send application/json' });
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
      return reply.code(400).send({ error: 'malformed JSON body', field: 'body' });
    if (status < 500) return reply.code(status).send({ error: err.message });
    req.log.error({ err: err.message }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });
  return app;
}
