import { randomBytes, randomUUID } from 'node:crypto';
import type { HopperServer } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { startServer } from '../server/index.js';
import { type PostgresSink, postgresSink } from '../stream/postgres-sink.js';
import type { Logger } from '../util/logger.js';
import { within } from '../util/within.js';
import { compact } from './demo-status.js';

/** A small steady load: one request of EVENTS_PER_REQUEST events every INTERVAL_MS. */
const INTERVAL_MS = 100;
const EVENTS_PER_REQUEST = 10;
export const PGLITE_DIR = './.hopper/pglite-demo';
/** Bounded: a server that hangs in shutdown must not keep the demo from ending. */
const CLOSE_TIMEOUT_MS = 8000;

const PAGES = ['/', '/pricing', '/docs', '/signup', '/blog/redis-streams'];
const TYPES = ['page_view', 'click', 'scroll', 'submit'];

/**
 * The tracking half of `npm start`: the ingestion server in-process on an ephemeral
 * port (with a random token, so auth is exercised too), a load of seed-004 events
 * through HTTP, and the processor writing them to PostgreSQL (PGlite unless DATABASE_URL).
 */
export class TrackingDemo {
  accepted = 0;
  errors = 0;
  written = 0;
  private server: HopperServer | undefined;
  private readonly starting: Promise<void>;
  private loader: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly token = randomBytes(24).toString('hex');
  private readonly session = randomUUID();
  private seq = 0;
  private stopped = false;
  /** Ours, lent to the server without its close(): the table is dropped after the server stops. */
  private readonly sink: PostgresSink;
  /** Whether this run's table was created (and so is dropped by stop()). */
  tableCreated = false;
  lastError: string | undefined;

  /** `stream` and `table` are this run's own (demo-run.ts), so nothing of an earlier run is counted. */
  constructor(
    redisUrl: string,
    logger: Logger,
    readonly names: { stream: string; table: string },
  ) {
    const config = {
      ...loadConfig({
        REDIS_URL: redisUrl,
        DATABASE_URL: process.env.DATABASE_URL,
        HOPPER_PGLITE_DIR: PGLITE_DIR,
        HOPPER_API_TOKENS: this.token,
        QUEUE_PROCESS_INTERVAL: '200ms',
        QUEUE_SHUTDOWN_TIMEOUT: '5s',
        QUEUE_WORKER_COUNT: '2',
      }),
      host: '127.0.0.1',
      port: 0,
      stream: names.stream,
      table: names.table,
    };
    this.sink = postgresSink({
      databaseUrl: config.databaseUrl ?? '',
      dataDir: config.pgliteDir,
      table: config.table,
    });
    this.starting = startServer(config, { logger, sink: this.lentSink() }).then(
      (server) => {
        this.server = server;
        server.processor?.on('batch', (n: number) => {
          this.written += n;
        });
        if (this.stopped) return;
        this.loader = setInterval(() => this.post(server), INTERVAL_MS);
      },
      (err: Error) => {
        this.lastError = err.message;
      },
    );
  }

  /** The sink for the server: close() left to us, and ready() noting that the table exists. */
  private lentSink(): PostgresSink {
    const sink = this.sink;
    return Object.assign((batch: Parameters<PostgresSink>[0]) => sink(batch), {
      backend: sink.backend,
      table: sink.table,
      query: sink.query,
      ready: async () => {
        await sink.ready();
        this.tableCreated = true;
      },
      close: async () => {},
    });
  }

  /** Resolves once the server listens (or failed to start: the demo goes on without it). */
  ready(): Promise<void> {
    return this.starting;
  }

  get backend(): string {
    return this.server?.sink?.backend ?? (process.env.DATABASE_URL ? 'pg' : 'pglite');
  }

  /**
   * One part of the demo's status line, short enough to fit beside the queue's figures on a
   * 120-column terminal: events accepted over HTTP, then written to the table.
   */
  status(): string {
    if (!this.server) return this.lastError ? 'tracking failed to start' : 'tracking: starting database...';
    const errors = this.errors > 0 ? ` (${this.errors} failed requests)` : '';
    return `events ${compact(this.accepted)} -> table ${compact(this.written)}${errors}`;
  }

  private post(server: HopperServer): void {
    const address = server.app.server.address() as { port: number };
    const events = Array.from({ length: EVENTS_PER_REQUEST }, () => {
      const n = this.seq++;
      return {
        timestamp: new Date().toISOString(),
        event_type: TYPES[n % TYPES.length],
        page_url: `http://localhost${PAGES[n % PAGES.length]}`,
        target_element: n % 3 === 0 ? 'button#cta' : 'body',
        n,
      };
    });
    const request = fetch(`http://127.0.0.1:${address.port}/api/v1/track`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: this.session, events }),
    })
      .then(async (r) => {
        if (r.status === 202) this.accepted += ((await r.json()) as { accepted: number }).accepted;
        else {
          this.errors++;
          this.lastError = `HTTP ${r.status}`;
        }
      })
      .catch((err: Error) => {
        this.errors++;
        this.lastError = err.message;
      })
      .finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
  }

  /**
   * Stops the load, lets in-flight requests finish, waits for a start still under way
   * (startServer gives up on its own after its Redis and database timeouts), shuts the
   * server down (flushing the processor), then drops this run's table. Never throws;
   * resolves to what could not be removed, if anything.
   */
  async stop(): Promise<string | undefined> {
    this.stopped = true;
    clearInterval(this.loader);
    await within(Promise.all(this.inFlight), 2000);
    await this.starting;
    if (this.server) await within(this.server.close(), CLOSE_TIMEOUT_MS);
    let failure: string | undefined;
    if (this.tableCreated) {
      failure = await this.sink.query(`DROP TABLE IF EXISTS ${this.sink.table}`).then(
        () => undefined,
        (err: Error) => `table ${this.names.table}: ${err.message}`,
      );
    }
    await within(this.sink.close(), 5000);
    return failure;
  }

  summary(): string {
    if (!this.server) return `Tracking: did not start${this.lastError ? ` (${this.lastError})` : ''}`;
    const errors = this.errors > 0 ? `, ${this.errors} failed requests (last: ${this.lastError})` : '';
    return (
      `Tracking: ${this.accepted} events accepted over HTTP (202), ${this.written} written to PostgreSQL ` +
      `(${this.backend}, table ${this.names.table})${errors}`
    );
  }
}
