import type { ServerResponse } from 'node:http';
import type { Logger } from '../util/logger.js';
import type { Overview, OverviewReader } from './data/overview.js';

/**
 * Read results shared by every viewer: a result younger than `ttlMs` is served from
 * memory, and concurrent requests for the same key share one read. So the Redis work
 * of a page depends on the refresh interval and the number of distinct pages open,
 * never on the number of viewers.
 */
export class SharedReads {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();

  get<T>(key: string, ttlMs: number, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = read();
    this.entries.set(key, { at: now, value });
    value.catch(() => this.entries.delete(key));
    if (this.entries.size > 2000) this.sweep(now);
    return value;
  }

  /**
   * Like get, but keeps the JSON text: every viewer of the page is sent the same bytes,
   * serialized once per interval rather than once per viewer.
   */
  json(key: string, ttlMs: number, read: () => Promise<unknown>): Promise<string> {
    return this.get(`${key}#json`, ttlMs, async () => JSON.stringify(await read()));
  }

  /** After an action: the next read of these keys goes to Redis. */
  invalidate(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  private sweep(now: number): void {
    for (const [k, e] of this.entries) if (now - e.at > 60_000) this.entries.delete(k);
    // Many distinct pages within a minute (job after job): memory stays bounded, reads just restart.
    if (this.entries.size > 2000) this.entries.clear();
  }
}

/**
 * Live updates: while at least one browser listens, one overview snapshot is read
 * per interval and the same bytes are written to every listener (Server-Sent Events).
 * Nothing is read while nobody listens.
 */
export class LiveHub {
  private readonly listeners = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private closed = false;

  constructor(
    private readonly reads: SharedReads,
    private readonly overview: OverviewReader,
    readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** The overview, shared with every other viewer within one interval. */
  snapshot(): Promise<Overview> {
    return this.reads.get('overview', this.intervalMs - 50, () => this.overview.read());
  }

  /** The overview as JSON text, serialized once per snapshot for every viewer. */
  snapshotJson(): Promise<string> {
    return this.reads.json('overview', this.intervalMs - 50, () => this.snapshot());
  }

  get viewers(): number {
    return this.listeners.size;
  }

  add(res: ServerResponse): void {
    if (this.closed) {
      res.end();
      return;
    }
    this.listeners.add(res);
    res.on('close', () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.stop();
    });
    if (this.last) res.write(this.last);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.tick();
    }
  }

  private tick(): void {
    this.snapshot()
      .then((o) => {
        this.last = `event: overview\ndata: ${JSON.stringify(o)}\n\n`;
      })
      .catch((err: Error) => {
        this.logger.warn({ err: err.message }, 'console: overview read failed');
        this.last = `event: down\ndata: ${JSON.stringify({ error: 'Redis did not answer' })}\n\n`;
      })
      .finally(() => {
        for (const res of this.listeners) res.write(this.last!);
      });
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.stop();
    for (const res of this.listeners) res.end();
    this.listeners.clear();
  }
}
