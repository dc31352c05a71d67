import { randomBytes, randomUUID } from 'node:crypto';
import type { HopperServer } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { startServer } from '../server/index.js';
import type { Logger } from '../util/logger.js';
import { within } from '../util/within.js';
import { compact } from './demo-status.js';

/** A small steady load: one request of EVENTS_PER_REQUEST events every INTERVAL_MS. */
const INTERVAL_MS = 100;
const EVENTS_PER_REQUEST = 10;
/** The demo's own stream, group and table, apart from what `hopper serve` uses. */
const STREAM = 'demo-track';
const TABLE = 'demo_events';
const PGLITE_DIR = './.hopper/pglite-demo';
/** Bounded: a first PGlite start (initdb) takes seconds, and the demo must still end promptly. */
const STOP_TIMEOUT_MS = 8000;

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
  /** Events the processor has not written yet (the group's lag and pending count entries: one per request). */
  pending: number | undefined;
  private server: HopperServer | undefined;
  private readonly starting: Promise<void>;
  private loader: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly token = randomBytes(24).toString('hex');
  private readonly session = randomUUID();
  private seq = 0;
  private stopped = false;
  lastError: string | undefined;

  constructor(redisUrl: string, logger: Logger) {
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
      stream: STREAM,
      table: TABLE,
    };
    this.starting = startServer(config, { logger }).then(
      (server) => {
        this.server = server;
        server.processor?.on('batch', (n: number) => {
          this.written += n;
        });
        if (this.stopped) return;
        this.loader = setInterval(() => this.post(server), INTERVAL_MS);
        this.poller = setInterval(() => void this.poll(server), 1000);
      },
      (err: Error) => {
        this.lastError = err.message;
      },
    );
  }

  /** Resolves once the server listens (or failed to start: the demo goes on without it). */
  ready(): Promise<void> {
    return this.starting;
  }

  get backend(): string {
    return this.server?.sink?.backend ?? (process.env.DATABASE_URL ? 'pg' : 'pglite');
  }

  /** One part of the demo's status line. */
  status(): string {
    if (!this.server) return this.lastError ? 'tracking failed to start' : 'tracking: starting database...';
    const pending = this.pending === undefined ? '?' : compact(this.pending);
    const errors = this.errors > 0 ? ` errors ${this.errors}` : '';
    return `tracking accepted ${compact(this.accepted)} written ${compact(this.written)} pending ${pending}${errors}`;
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

  private async poll(server: HopperServer): Promise<void> {
    const info = await server.stream.info().catch(() => undefined);
    const group = info?.groups.find((g) => g.name === server.config.group);
    if (group && group.lag !== null) this.pending = (group.lag + group.pending) * EVENTS_PER_REQUEST;
  }

  /** Stops the load, lets in-flight requests finish, then shuts the server down (flushing the processor). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.loader);
    clearInterval(this.poller);
    await within(Promise.all(this.inFlight), 2000);
    await within(
      this.starting.then(async () => {
        const server = this.server;
        if (!server) return;
        await server.close();
        this.pending = undefined;
      }),
      STOP_TIMEOUT_MS,
    );
  }

  summary(): string {
    if (!this.server) return `Tracking: did not start${this.lastError ? ` (${this.lastError})` : ''}`;
    const errors = this.errors > 0 ? `, ${this.errors} failed requests (last: ${this.lastError})` : '';
    return (
      `Tracking: ${this.accepted} events accepted over HTTP (202), ${this.written} written to PostgreSQL ` +
      `(${this.backend}, table ${TABLE})${errors}`
    );
  }
}
