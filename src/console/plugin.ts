import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createClient } from '../redis/connection.js';
import { defineScripts } from '../redis/scripts.js';
import type { ApiToken } from '../server/tokens.js';
import { HopperError, JobStateError, ValidationError } from '../util/errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { OverviewReader } from './data/overview.js';
import { StreamsReader } from './data/streams.js';
import { ANONYMOUS, guard } from './guard.js';
import { LiveHub, SharedReads } from './hub.js';
import { ConsoleQueues } from './queues.js';
import { consoleRoutes } from './routes.js';
import { consoleScripts } from './scripts.js';
import { Sessions } from './session.js';
import { spoolRoutes } from './spool-routes.js';
import { CSP, loadAssets } from './static.js';

export interface ConsoleOptions {
  /** Redis URL of the queues (default redis://127.0.0.1:6379). */
  connection?: string;
  /** Key prefix of the queues. Default `hopper`. */
  prefix?: string;
  /** Tokens that may log in: `read` sees, `admin` sees and acts (src/server/tokens.ts). */
  tokens?: ApiToken[];
  /** false: no login, everyone is an admin. Only for a console bound to loopback. Default true. */
  auth?: boolean;
  /** How often the shared snapshot is read while someone watches, ms. Default 2000. */
  intervalMs?: number;
  /** Session length, ms. Default 12 hours. */
  sessionTtlMs?: number;
  /** Secure cookie flag: 'auto' (default) sets it on HTTPS, as seen directly or via X-Forwarded-Proto. */
  secureCookie?: boolean | 'auto';
  /** Origins accepted on actions besides the page's own host (e.g. 'https://ops.example.com'). */
  allowedOrigins?: string[];
  /** Signing key of sessions; default derived from the tokens' secrets. */
  secret?: string;
  logger?: Logger;
}

/**
 * The console as a Fastify plugin: register it under a prefix, e.g.
 * `app.register(hopperConsole({ connection, tokens }), { prefix: '/dashboard' })`.
 * Everything lives inside the plugin's own scope (its hooks, error handler and
 * Redis connection), closed with the app.
 */
export function hopperConsole(options: ConsoleOptions = {}) {
  return async function consolePlugin(app: FastifyInstance): Promise<void> {
    const connection = options.connection ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const prefix = options.prefix ?? 'hopper';
    const tokens = options.tokens ?? [];
    const auth = options.auth ?? true;
    if (auth && tokens.length === 0 && !options.secret)
      throw new ValidationError(
        'tokens',
        'the console needs tokens to log in with (or auth: false on loopback)',
      );
    const logger = options.logger ?? defaultLogger('hopper:console');
    const intervalMs = options.intervalMs ?? 2000;
    const client = createClient(connection, 'producer');
    client.on('error', () => {});
    defineScripts(client, consoleScripts);
    const sessions = new Sessions(tokens, options.sessionTtlMs ?? 12 * 3600_000, options.secret);
    const reads = new SharedReads();
    const hub = new LiveHub(reads, new OverviewReader(client, prefix), intervalMs, logger);
    const queues = new ConsoleQueues(connection, prefix, logger);
    const assets = loadAssets();

    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      if (!reply.getHeader('cache-control')) reply.header('cache-control', 'no-store');
      // The server's own time for this reply (browser devtools and bench:dashboard show it).
      reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
      return payload;
    });
    // Before the server waits for open requests: live streams never end on their own.
    app.addHook('preClose', async () => hub.close());
    app.addHook('onClose', async () => {
      hub.close();
      await queues.close();
      client.disconnect();
    });
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof ValidationError)
        return reply.code(400).send({ error: err.message, field: err.field });
      if (err instanceof JobStateError) return reply.code(409).send({ error: err.message });
      if (err instanceof HopperError) return reply.code(400).send({ error: err.message });
      const status = err.statusCode ?? 500;
      if (status === 415) return reply.code(415).send({ error: 'send application/json' });
      if (status < 500) return reply.code(status).send({ error: err.message });
      req.log.error({ err: err.message }, 'console request failed');
      return reply.code(500).send({ error: 'internal error' });
    });
    app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));

    // The page and its files need no session: they hold no data.
    const sendAsset = (name: string, req: FastifyRequest, reply: FastifyReply) => {
      const a = assets.get(name);
      if (!a) return reply.code(404).send({ error: 'not found' });
      reply.header('etag', a.etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.type(a.type).send(a.body);
    };
    app.get('/', { prefixTrailingSlash: 'slash' }, (req, reply) => sendAsset('index.html', req, reply));
    app.get('', { prefixTrailingSlash: 'no-slash' }, (req, reply) => {
      // Relative: the page's relative links need the trailing slash, at whatever path a proxy shows it.
      const path = req.url.split('?')[0]!;
      return reply.redirect(`${path.slice(path.lastIndexOf('/') + 1)}/`, 302);
    });
    app.get('/assets/*', (req: FastifyRequest<{ Params: { '*': string } }>, reply) =>
      sendAsset(req.params['*'], req, reply),
    );

    await app.register(async (api) => {
      api.addHook(
        'onRequest',
        guard({ sessions, auth, anonymous: ANONYMOUS('anon'), allowedOrigins: options.allowedOrigins ?? [] }),
      );
      consoleRoutes(api, {
        client,
        connection,
        prefix,
        queues,
        reads,
        hub,
        streams: new StreamsReader(client, prefix),
        sessions,
        auth,
        secureCookie: options.secureCookie ?? 'auto',
      });
      spoolRoutes(api, { client, prefix, reads, intervalMs: hub.intervalMs });
    });
  };
}
