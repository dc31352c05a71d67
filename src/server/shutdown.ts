import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { EventStream } from '../stream/event-stream.js';
import type { PostgresSink } from '../stream/postgres-sink.js';
import type { StreamProcessor } from '../stream/processor.js';
import type { Logger } from '../util/logger.js';
import { within } from '../util/within.js';

export interface ShutdownParts {
  app: FastifyInstance;
  stream: EventStream;
  processor: StreamProcessor | undefined;
  sink: PostgresSink | undefined;
  probe: Redis;
  monitor: NodeJS.Timeout;
  logger: Logger;
  timeout: number;
  /** Closed after the HTTP server, before Redis: parts of the jobs API. */
  closers?: (() => Promise<void>)[];
}

/**
 * Seed 004's order: stop accepting (in-flight requests finish and their appends land),
 * then let the processor flush and acknowledge within the shutdown timeout, then close
 * the sink and Redis. Each step is logged; none throws, so the process can exit 0.
 */
export async function shutdown(p: ShutdownParts): Promise<void> {
  p.logger.info('Shutting down server...');
  clearInterval(p.monitor);
  await within(p.app.close(), p.timeout);
  p.logger.info('HTTP server closed: no new requests accepted');
  for (const close of p.closers ?? [])
    await within(
      close().catch(() => {}),
      2000,
    );
  // The processor logs "[EventProcessor] Stopping consumers...", one line per consumer and the outcome.
  if (p.processor) await within(p.processor.close(), p.timeout + 1000);
  await within(p.sink?.close(), 5000);
  await within(p.stream.close(), 2000);
  await within(
    p.probe.quit().catch(() => {}),
    1000,
  );
  p.probe.disconnect();
  p.logger.info('Redis and database connections closed');
  p.logger.info('Server shutdown complete');
}

/**
 * Serves what `starting` starts until SIGINT/SIGTERM (or `more`), then closes it. Signals
 * are heard from the start: one that comes while it is starting (PGlite can take seconds)
 * waits for the start, then closes, rather than killing the process half-started. A failed
 * start rejects.
 */
export async function serveUntilStopped(
  starting: Promise<{ close(): Promise<void> }>,
  logger: Logger,
  more?: (trigger: (reason: string) => void) => void,
): Promise<void> {
  const stopped = onSignals(async () => (await starting.catch(() => undefined))?.close(), logger, more);
  await starting;
  await stopped;
}

/**
 * SIGINT/SIGTERM run `stop` once; a second signal while stopping exits at once
 * (whatever the processor still holds stays pending in Redis and is claimed later).
 * `more` may hook another trigger (an HTTP worker's primary asking it to stop): it
 * starts the same stop and does not count as a signal, so a Ctrl+C that reaches both
 * the worker and its primary, in either order, is one stop, not a second signal.
 */
export function onSignals(
  stop: () => Promise<void>,
  logger: Logger,
  more?: (trigger: (reason: string) => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    let signals = 0;
    const start = (reason: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal: reason }, `${reason} received`);
      stop().then(resolve, resolve);
    };
    const handler = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      start(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    more?.(start);
  });
}
