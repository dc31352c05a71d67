import cluster, { type Worker } from 'node:cluster';
import type { PostgresSink } from '../stream/postgres-sink.js';
import type { Logger } from '../util/logger.js';
import { createServer } from './app.js';
import type { ServerConfig } from './config.js';
import { startServer } from './index.js';
import { onSignals, serveUntilStopped } from './shutdown.js';
import { deadline } from './status.js';

/** Messages between the primary and its HTTP workers. */
const CHECK = 'hopper:database-check';
const CHECK_REPLY = 'hopper:database-check-reply';
const STOP = 'hopper:stop';
const DATABASE_CHECK_MS = 2000;
/** A worker that died on its own is replaced after this long (not at once: a crash loop would spin). */
const RESTART_DELAY_MS = 1000;

type Message = { type?: string; id?: number; ok?: boolean };

/**
 * `hopper serve` with HTTP_WORKERS above 1, on node:cluster. One Node process answers
 * HTTP on one core; the workers share the port (the primary hands out connections
 * round-robin), so requests use every core. The primary listens nowhere: it runs the
 * stream processor and holds the database connection, once, as with one process (N
 * processors would only add consumers and connections, and PGlite cannot be opened
 * by two processes), and it answers the workers' /health database checks. On
 * SIGINT/SIGTERM it stops the workers (each closes its HTTP server and lets in-flight
 * appends land), then flushes the processor, and exits 0; every step is logged.
 * Resolves once shut down.
 */
export function serveCluster(
  config: ServerConfig,
  logger: Logger,
  options: ClusterOptions = {},
): Promise<void> {
  return cluster.isPrimary ? primary(config, logger, options) : worker(config, logger);
}

export interface ClusterOptions {
  /** The primary's sink instead of one built from the config (as ServerOptions.sink). */
  sink?: PostgresSink;
  /** Called in the primary once every worker listens, with the port (PORT=0 picks a free one). */
  onListening?: (port: number) => void;
}

async function primary(config: ServerConfig, logger: Logger, options: ClusterOptions): Promise<void> {
  const server = createServer(config, { logger, sink: options.sink });
  const workers = new Set<Worker>();
  let stopping = false;
  let failed = false;

  const answer = (w: Worker, m: Message) => {
    if (m?.type !== CHECK) return;
    const check = server.sink
      ? deadline(server.sink.query('SELECT 1'), DATABASE_CHECK_MS, 'database')
      : Promise.resolve([]);
    check
      .then(
        () => true,
        () => false,
      )
      .then((ok) => {
        if (w.isConnected()) w.send({ type: CHECK_REPLY, id: m.id, ok });
      });
  };
  const fork = (): Worker => {
    const w = cluster.fork();
    workers.add(w);
    w.on('message', (m: Message) => answer(w, m));
    // Its IPC channel can fail (EPIPE) when it exits while Node's cluster code answers it,
    // as when it stops: without a listener that error would crash the primary mid-shutdown.
    w.on('error', (err) =>
      (stopping ? logger.debug : logger.warn).call(
        logger,
        { pid: w.process.pid, err: err.message },
        `[HTTP worker ${w.process.pid}] IPC error`,
      ),
    );
    w.once('exit', (code, signal) => {
      workers.delete(w);
      if (stopping || !started) return;
      logger.error(
        { pid: w.process.pid, code, signal },
        `[HTTP worker ${w.process.pid}] exited unexpectedly: starting another`,
      );
      setTimeout(() => stopping || fork(), RESTART_DELAY_MS);
    });
    return w;
  };

  let started = false;
  let port = config.port;
  const startup = (async () => {
    await server.ready();
    await Promise.all(
      Array.from(
        { length: config.httpWorkers },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = fork();
            w.once('listening', (address) => {
              port = address.port;
              resolve();
            });
            w.once('exit', (code) =>
              reject(new Error(`an HTTP worker exited with code ${code} while starting`)),
            );
          }),
      ),
    );
  })();
  // Listening for signals from the start: one that comes while starting (the database can
  // take seconds) waits for the start to finish, then stops as usual.
  const stopped = onSignals(async () => {
    await startup.catch(() => {});
    if (failed) return;
    stopping = true;
    logger.info(`Stopping ${workers.size} HTTP workers...`);
    await Promise.all([...workers].map((w) => stopWorker(w, config.shutdownTimeout + 5000, logger)));
    logger.info('HTTP workers stopped: no new requests accepted');
    await server.close();
  }, logger);
  try {
    await startup;
    started = true;
  } catch (err) {
    failed = stopping = true;
    for (const w of workers) w.process.kill('SIGKILL');
    await server.close();
    throw err;
  }
  logger.info(
    { workers: config.httpWorkers },
    `${config.httpWorkers} HTTP workers listening on ${config.host}:${port}; stream processor in the primary (pid ${process.pid})`,
  );
  options.onListening?.(port);
  await stopped;
}

function stopWorker(w: Worker, timeoutMs: number, logger: Logger): Promise<void> {
  const pid = w.process.pid;
  return new Promise((resolve) => {
    if (w.isDead()) return resolve();
    const timer = setTimeout(() => {
      logger.warn({ pid }, `[HTTP worker ${pid}] did not stop in time: killed`);
      w.process.kill('SIGKILL');
    }, timeoutMs);
    w.once('exit', (code, signal) => {
      clearTimeout(timer);
      logger.info({ pid, code, signal }, `[HTTP worker ${pid}] stopped`);
      resolve();
    });
    try {
      w.send({ type: STOP });
    } catch {
      // Its channel is already gone: it is exiting anyway.
    }
  });
}

async function worker(config: ServerConfig, logger: Logger): Promise<void> {
  await serveUntilStopped(
    startServer(
      { ...config, processor: false },
      { logger, databaseCheck: config.processor ? askPrimary : undefined },
    ),
    logger,
    (trigger) =>
      process.on('message', (m: Message) => {
        if (m?.type === STOP) trigger('stop from the primary');
      }),
  );
  // The IPC channel would keep this process alive.
  cluster.worker?.disconnect();
}

let nextCheck = 0;
let replies = false;
const waiting = new Map<number, (ok: boolean) => void>();

/** A worker's database check: the primary runs it on its sink; a lost reply times out in readStatus. */
function askPrimary(): Promise<void> {
  if (!replies) {
    replies = true;
    process.on('message', (m: Message) => {
      if (m?.type === CHECK_REPLY) waiting.get(m.id!)?.(m.ok === true);
    });
  }
  const id = ++nextCheck;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => settle(false), DATABASE_CHECK_MS + 500);
    const settle = (ok: boolean) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (ok) resolve();
      else reject(new Error('the database did not answer the primary'));
    };
    waiting.set(id, settle);
    process.send?.({ type: CHECK, id });
  });
}
