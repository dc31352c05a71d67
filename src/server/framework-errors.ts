import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Errors Fastify and Node answer before any route or error handler runs, in the
 * documented error shape `{ "error": "...", "field"?: "..." }` (api-schemas.ts) instead
 * of the framework's own `{ error, code, message, statusCode }`.
 */

/**
 * Longest path parameter Fastify routes. Above every documented limit (queue name 200,
 * job id 256 characters, each up to 12 bytes percent-encoded), so a long but valid
 * parameter reaches its schema, which answers 400 naming it rather than 414.
 */
export const MAX_PARAM_LENGTH = 4096;

/** Fastify's `frameworkErrors` option: routing failures (bad percent-encoding, over-long parameter). */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
    reply.code(414).send({ error: `a path parameter is over ${MAX_PARAM_LENGTH} characters` });
  else if (err.code === 'FST_ERR_BAD_URL')
    reply.code(400).send({ error: 'malformed URL: bad percent-encoding in the path', field: 'url' });
  else
    reply.code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500).send({ error: err.message });
}

/** Node's `clientError`: a request too malformed (or slow) to reach Fastify. Written raw on the socket. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, error] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'request timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request headers too large']
        : [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error });
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy(err);
}

/**
 * 503 for requests that arrive once close() has begun, in our shape (Fastify's own
 * return503OnClosing writes its shape; it is turned off where this is installed).
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_req, reply, done) => {
    if (!closing) return done();
    reply.code(503).header('connection', 'close').send({ error: 'server is shutting down' });
  });
}
