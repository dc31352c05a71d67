import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { queueKeys } from '../queue/keys.js';
import { isCluster } from '../redis/connection.js';
import { callScript, defineScripts, loadScripts } from '../redis/scripts.js';
import type { SpoolStats } from './producer.js';

/** What the reporter needs of a producer. */
export interface ReportedSpool {
  readonly run: string;
  stats(): SpoolStats;
  on(event: 'drained', listener: () => void): unknown;
}

/** A producer's spool as it published it to Redis (see spool-report.lua). */
export interface SpoolReport {
  host: string;
  pid: number;
  /** The producer run (its generated ids start with it). */
  run: string;
  dir: string;
  state: SpoolStats['state'];
  /** Calls not yet replayed. */
  depth: number;
  bytes: number;
  /** Add time (ms) of the oldest call not yet replayed; null when empty. */
  oldest: number | null;
  /** When it was reported (ms). */
  at: number;
}

/** A producer reports its spool this often while it holds records. */
export const REPORT_EVERY_MS = 5000;
/** A report older than this is a dead (or cut off) producer's: readers skip it, writers drop it. */
export const REPORT_STALE_MS = 30_000;

/** HASH of a queue's or stream's spool reports, under its hash tag: field host:pid:run -> SpoolReport JSON. */
export const spoolReportsKey = (tag: string) => `${tag}:spools`;

const scripts = loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)));

/**
 * Publishes a producer's spool state to Redis while Redis answers, so processes that
 * do not own the spool (the monitor, the dashboard, /metrics) see it: every
 * REPORT_EVERY_MS while the spool holds records, and once more (a delete) when it is
 * empty again. Nothing is sent while the client is not connected (no command waits in
 * the offline queue behind an outage), so a spool is visible from the moment Redis is
 * back, which is when it replays.
 */
export class SpoolReporter {
  private readonly field: string;
  private readonly timer: NodeJS.Timeout;
  private reported = false;
  private busy = false;

  constructor(
    private readonly client: Redis,
    private readonly key: string,
    private readonly producer: ReportedSpool,
    private readonly dir: string,
  ) {
    defineScripts(client, scripts);
    this.field = `${hostname()}:${process.pid}:${producer.run}`;
    this.timer = setInterval(() => void this.report(), REPORT_EVERY_MS);
    this.timer.unref();
    // Drained: say so at once rather than up to REPORT_EVERY_MS later.
    producer.on('drained', () => void this.report());
  }

  /** Sends the current state (or the delete); resolves false when nothing was sent. */
  async report(): Promise<boolean> {
    if (this.busy || this.client.status !== 'ready') return false;
    const s = this.producer.stats();
    if (s.depth === 0 && !this.reported) return false;
    this.busy = true;
    const now = Date.now();
    const value =
      s.depth === 0
        ? ''
        : JSON.stringify({
            host: hostname(),
            pid: process.pid,
            run: this.producer.run,
            dir: this.dir,
            state: s.state,
            depth: s.depth,
            bytes: s.bytes,
            oldest: s.oldest,
            at: now,
          } satisfies SpoolReport);
    try {
      await callScript(
        this.client,
        'spool-report',
        [this.key],
        [this.field, value, now, REPORT_STALE_MS, REPORT_STALE_MS * 2],
      );
      this.reported = value !== '';
      return true;
    } catch {
      return false; // Redis went away again: the next tick tries
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The fresh reports of one queue or stream (stale ones, of dead producers, left out), deepest first. */
export async function readSpoolReports(client: Redis, tag: string, now = Date.now()): Promise<SpoolReport[]> {
  return parseSpoolReports(await client.hgetall(spoolReportsKey(tag)), now);
}

/** HGETALL of a reports hash as reports: malformed and stale ones left out. */
export function parseSpoolReports(raw: Record<string, string>, now = Date.now()): SpoolReport[] {
  const out: SpoolReport[] = [];
  for (const json of Object.values(raw)) {
    try {
      const r = JSON.parse(json) as SpoolReport;
      if (typeof r.at === 'number' && typeof r.depth === 'number' && r.at >= now - REPORT_STALE_MS)
        out.push(r);
    } catch {}
  }
  return out.sort((a, b) => b.depth - a.depth);
}

/** Sum of depths and the oldest call's age (ms) over reports; age 0 when none. */
export function summariseSpools(
  reports: SpoolReport[],
  now = Date.now(),
): { producers: number; depth: number; ageMs: number } {
  let depth = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const r of reports) {
    depth += r.depth;
    if (r.oldest !== null && r.oldest < oldest) oldest = r.oldest;
  }
  return {
    producers: reports.length,
    depth,
    ageMs: oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, now - oldest),
  };
}

/** Each queue's producer spool reports (one HGETALL per queue, pipelined; per queue on a Cluster). */
export async function readQueueSpools(
  client: Redis,
  prefix: string,
  names: string[],
  now = Date.now(),
): Promise<{ queue: string; reports: SpoolReport[] }[]> {
  if (names.length === 0) return [];
  const keys = names.map((n) => spoolReportsKey(queueKeys(prefix, n).tag));
  const raw = isCluster(client)
    ? await Promise.all(keys.map((k) => client.hgetall(k)))
    : ((await keys.reduce((p, k) => p.hgetall(k), client.pipeline()).exec()) ?? []).map(([err, v]) => {
        if (err) throw err;
        return v as Record<string, string>;
      });
  return names
    .map((queue, i) => ({ queue, reports: parseSpoolReports(raw[i]!, now) }))
    .filter((q) => q.reports.length > 0);
}
