import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValidationError } from '../util/errors.js';
import type { Channel, Unsubscribe } from './channel.js';
import { positiveInteger, validateChannelName } from './validate.js';

export interface SseOptions {
  /** The channel is a Redis glob pattern. */
  pattern?: boolean;
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. Default 15 s. */
  heartbeatMs?: number;
  /** Reconnect delay the browser is told to use (`retry:`). Default 3 s. */
  retryMs?: number;
  /**
   * A client that reads slower than messages arrive is cut off once this many bytes
   * wait in its socket buffer, rather than letting the buffer grow without bound.
   * The browser reconnects by itself. Default 1 MiB.
   */
  maxBufferedBytes?: number;
}

/**
 * Builds the `(req, res)` handler behind Channel.sseHandler. Each request gets its
 * own subscription, removed when the client goes away. Event ids count up per
 * stream; Last-Event-ID is not honoured (pub/sub keeps no history to replay from).
 */
export function serveSse(
  channel: Channel,
  streams: Set<ServerResponse>,
  name: string | ((req: IncomingMessage) => string),
  options: SseOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const pattern = options.pattern === true;
  const heartbeatMs = positiveInteger('heartbeatMs', options.heartbeatMs ?? 15_000);
  const retryMs = positiveInteger('retryMs', options.retryMs ?? 3_000);
  const maxBuffered = positiveInteger('maxBufferedBytes', options.maxBufferedBytes ?? 1024 * 1024);

  return (req, res) => {
    let target: string;
    try {
      target = validateChannelName(
        pattern ? 'pattern' : 'channel',
        typeof name === 'string' ? name : name(req),
      );
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(err instanceof ValidationError ? err.message : 'bad channel');
      return;
    }

    let gone = false;
    let unsubscribe: Unsubscribe | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let id = 0;
    const cleanup = () => {
      if (gone) return;
      gone = true;
      clearInterval(heartbeat);
      streams.delete(res);
      unsubscribe?.().catch((err) => channel.report(err, { channel: target, source: 'sse' }));
    };
    // 'close' fires when the client disconnects and when we end the response: both must unsubscribe.
    res.on('close', cleanup);
    streams.add(res);

    // Headers are set but not sent: a failed subscribe can still answer 503.
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    // nginx buffers proxied responses unless told not to; SSE must flow at once.
    res.setHeader('x-accel-buffering', 'no');

    const write = (text: string) => {
      if (gone || res.destroyed || res.writableEnded) return;
      res.write(text);
      if (res.writableLength > maxBuffered) res.destroy();
    };

    channel
      .subscribe(
        target,
        (message, ch) => {
          id += 1;
          write(`id: ${id}\nevent: message\ndata: ${JSON.stringify({ channel: ch, message })}\n\n`);
        },
        { pattern },
      )
      .then(
        (off) => {
          unsubscribe = off;
          if (gone) {
            // The client left while we were subscribing.
            off().catch((err) => channel.report(err, { channel: target, source: 'sse' }));
            return;
          }
          write(`retry: ${retryMs}\n: subscribed\n\n`);
          heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
        },
        (err) => {
          channel.report(err, { channel: target, source: 'sse' });
          if (!res.headersSent) {
            res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
            res.end('subscription failed');
          } else res.end();
          cleanup();
        },
      );
  };
}
