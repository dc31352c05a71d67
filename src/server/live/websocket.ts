import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { Channel } from '../../pubsub/channel.js';
import type { Logger } from '../../util/logger.js';
import { MissingDependencyError, requireOptional } from '../../util/optional.js';
import { ANONYMOUS_ADMIN, type Caller, tokenMatcher } from '../auth.js';
import { allTokens, type ServerConfig } from '../config.js';
import type { JobQueues } from '../queues.js';
import type { JobWatch } from './job-watch.js';
import { Session } from './session.js';

export const WS_PATH = '/api/v1/ws';
/** The subprotocol; a browser (which cannot set Authorization) sends its token as `hopper.token.<base64url>`. */
export const WS_PROTOCOL = 'hopper.v1';
const TOKEN_PROTOCOL = 'hopper.token.';
/** On shutdown, clients get this long to take the close frame before their sockets are cut. */
const CLOSE_GRACE_MS = 1_000;

/**
 * WebSocket updates on `hopper serve` (docs/pubsub-and-locks.md): channel messages and job
 * status on one socket at /api/v1/ws, with the HTTP API's tokens and scopes (checked at the
 * upgrade, before any frame), bounded message size, ping/pong keepalive, and close code 1001
 * to every client when the server shuts down. Returns false when off (HOPPER_WEBSOCKET=off,
 * or auto without the optional peer `ws`).
 */
export function mountWebSocket(
  app: FastifyInstance,
  config: ServerConfig,
  queues: JobQueues,
  watch: JobWatch,
  logger: Logger,
): boolean {
  if (config.websocket === 'off') return false;
  let wsLib: typeof import('ws');
  try {
    wsLib = requireOptional<typeof import('ws')>(
      'ws',
      'WebSocket updates on `hopper serve` (HOPPER_WEBSOCKET=on)',
    );
  } catch (err) {
    if (config.websocket === 'auto' && err instanceof MissingDependencyError) return false;
    throw err;
  }
  const wss = new wsLib.WebSocketServer({
    noServer: true,
    maxPayload: config.wsMaxMessage,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const match = tokenMatcher(allTokens(config));
  const channel = new Channel({ connection: config.redisUrl, logger });
  channel.on('error', (err, ctx) => logger.warn({ err: err.message, ...ctx }, 'ws channel error'));
  const alive = new Map<WebSocket, boolean>();
  let closing = false;

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WS_PATH) return refuse(socket, 404, 'Not Found');
    if (closing) return refuse(socket, 503, 'Service Unavailable');
    const caller = config.auth ? authenticate(req, match) : ANONYMOUS_ADMIN;
    if (!caller) return refuse(socket, 401, 'Unauthorized', 'WWW-Authenticate: Bearer\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('close', () => alive.delete(ws));
      ws.on('error', () => {}); // e.g. a frame over maxPayload: ws closes with 1009 itself
      new Session(ws, {
        channel,
        watch,
        queues,
        caller,
        maxBuffered: 4 * config.wsMaxMessage + 1024 * 1024,
        logger,
      });
    });
  });

  // Keepalive: a client that has not answered the previous ping by the next is cut.
  const pinger = setInterval(() => {
    for (const [ws, ok] of alive) {
      if (!ok) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, config.wsPingInterval);
  pinger.unref();

  app.addHook('preClose', async () => {
    closing = true;
    clearInterval(pinger);
    const open = [...alive.keys()];
    for (const ws of open) ws.close(1001, 'server shutting down');
    await Promise.race([
      Promise.all(
        open.map((ws) => new Promise((r) => (ws.readyState === ws.CLOSED ? r(0) : ws.once('close', r)))),
      ),
      new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref()),
    ]);
    for (const ws of alive.keys()) ws.terminate();
  });
  app.addHook('onClose', async () => {
    wss.close();
    await channel.close().catch(() => {});
  });
  return true;
}

/** The caller of `Authorization: Bearer <token>`, or of the subprotocol `hopper.token.<base64url token>`. */
function authenticate(req: IncomingMessage, match: (t: string) => Caller | undefined): Caller | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^Bearer /i.test(header)) return match(header.slice(7).trim());
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(TOKEN_PROTOCOL));
  if (!offered) return undefined;
  return match(Buffer.from(offered.slice(TOKEN_PROTOCOL.length), 'base64url').toString('utf8'));
}

function refuse(socket: Duplex, status: number, text: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
  socket.destroy();
}
