import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { requireOptional } from '../util/optional.js';
import { presentedToken, tokenChecker } from './auth.js';
import { type Argument, refusal } from './commands.js';
import type { GatewayConfig } from './config.js';
import { BadRequest, checkBatch, checkCommand, parseJson, pathCommand } from './request.js';
import { isReplyError, runOne, runPipeline, runTransaction } from './run.js';

class Timeout extends Error {}

/** Rejects with Timeout after `ms`; the command may still finish in Redis (documented). */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`ERR the command did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** Fastify, loaded when a gateway is made, not at import: it is an optional peer (MissingDependencyError names it). */
export function loadGatewayFastify(): typeof import('fastify') {
  return requireOptional<typeof import('fastify')>('fastify', 'The REST gateway (hopper-queue/gateway)');
}

/**
 * The REST gateway: Upstash's REST protocol in front of one Redis connection.
 * `POST /` (a command as a JSON array), `POST /pipeline`, `POST /multi-exec`, and the
 * path form (`GET /set/foo/bar`, a POST body as the last argument). Every request needs a
 * bearer token; bodies are bounded and read only after the token matched.
 */
export function buildGateway(redis: Redis, config: GatewayConfig): FastifyInstance {
  const { default: Fastify } = loadGatewayFastify();
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimit,
    // Time bounds on slow clients: the whole request, and idle keep-alive connections.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs * 2,
    keepAliveTimeout: 10_000,
    routerOptions: { maxParamLength: 1_000_000 },
  });
  const valid = tokenChecker(config.tokens);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    if (!['GET', 'POST', 'PUT', 'HEAD'].includes(req.method))
      return reply.code(405).send({ error: `ERR method ${req.method} is not allowed` });
    if (!valid(presentedToken(req.headers.authorization, req.query as Record<string, unknown>)))
      // The connection closes: a refused client cannot hold it by trickling a body.
      return reply.code(401).header('connection', 'close').send({ error: 'Unauthorized' });
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const message =
      status === 413 ? `ERR the request body is larger than ${config.bodyLimit} bytes` : `ERR ${err.message}`;
    reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'ERR not found' }));

  const base64 = (req: FastifyRequest) =>
    String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';

  /** Refusals and bad JSON: 400. Redis's own errors: 400. Redis away or slow: 503 / 504. */
  const answer = async (reply: FastifyReply, work: () => Promise<unknown>) => {
    try {
      return reply.send(await within(work(), config.commandTimeoutMs));
    } catch (err) {
      if (err instanceof BadRequest || isReplyError(err))
        return reply.code(400).send({ error: (err as Error).message });
      if (err instanceof Timeout) return reply.code(504).send({ error: err.message });
      return reply.code(503).send({ error: 'ERR Redis is unavailable' });
    }
  };

  const check = (commands: Argument[][]) => {
    for (const c of commands) {
      const why = refusal(c, config.allow);
      if (why) throw new BadRequest(why);
    }
  };

  const single = (req: FastifyRequest, reply: FastifyReply, command: () => Argument[]) =>
    answer(reply, async () => {
      const c = command();
      check([c]);
      return { result: await runOne(redis, c, base64(req)) };
    });

  app.post('/', (req, reply) =>
    single(req, reply, () => checkCommand(parseJson(req.body as Buffer), 'the body')),
  );

  for (const [url, run] of [
    ['/pipeline', runPipeline],
    ['/multi-exec', runTransaction],
  ] as const)
    app.post(url, (req, reply) =>
      answer(reply, async () => {
        const commands = checkBatch(parseJson(req.body as Buffer), config.maxCommands);
        check(commands);
        return run(redis, commands, base64(req));
      }),
    );

  const byPath = (req: FastifyRequest, reply: FastifyReply) =>
    single(req, reply, () =>
      pathCommand(
        // The raw path: segments are decoded one by one, so %2F stays inside its argument.
        req.url.split('?')[0] ?? '',
        req.query as Record<string, unknown>,
        req.body as Buffer | undefined,
      ),
    );
  app.get('/*', byPath);
  app.post('/*', byPath);
  app.put('/*', byPath);
  return app;
}
