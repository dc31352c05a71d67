import type { Redis } from 'ioredis';
import type { EventStream } from '../stream/event-stream.js';
import type { PostgresSink } from '../stream/postgres-sink.js';
import type { Logger } from '../util/logger.js';

export interface HealthBody {
  status: 'healthy' | 'unhealthy';
  redis: 'healthy' | 'unhealthy';
  database: 'healthy' | 'unhealthy' | 'disabled';
  /** Entries not yet written by the processor group: undelivered plus pending. */
  queue_depth: number | null;
  /** Delivered to a consumer, not yet acknowledged. */
  queue_pending: number | null;
  /** Consumers Redis knows in the processor group, all processes (registered on their first delivery). */
  consumers: number | null;
  warnings?: string[];
  /** With TRACK_SPOOL_DIR: this process's spool (events held while Redis did not answer). */
  spool?: {
    state: 'direct' | 'spooling';
    depth: number;
    bytes: number;
    age_ms: number;
    /** The spool has held records longer than SPOOL_DEGRADED_MS: Redis is away or replay does not keep up. */
    degraded: boolean;
  };
  /** Why the status is unhealthy, when it is. */
  reasons?: string[];
}

const REDIS_CHECK_MS = 1000;
/** A spool holding records longer than this marks /health degraded (a warning). */
export const SPOOL_DEGRADED_MS = 60_000;
const DATABASE_CHECK_MS = 2000;

/** Resolves to the value, or rejects when `ms` pass first: health must answer even when a dependency hangs. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Logs one warning when the depth crosses the threshold upwards (not one per check),
 * and one info line when it is back below, like the seed's [Monitor] lines.
 */
export class DepthWatch {
  private above = false;
  constructor(
    private readonly threshold: number,
    private readonly logger: Logger,
  ) {}

  check(depth: number | null, pending: number | null): string[] {
    if (depth === null) return [];
    if (depth > this.threshold) {
      if (!this.above)
        this.logger.warn(
          { queue_depth: depth, queue_pending: pending, threshold: this.threshold },
          `[Monitor] WARNING: Queue depth exceeded ${this.threshold} messages!`,
        );
      this.above = true;
      return [`queue depth ${depth} exceeds ${this.threshold}`];
    }
    if (this.above)
      this.logger.info(
        { queue_depth: depth, threshold: this.threshold },
        '[Monitor] Queue depth back below threshold',
      );
    this.above = false;
    return [];
  }
}

/**
 * Tells a processor that makes no progress: the group acknowledged nothing (entries read
 * minus pending, so dead letters count as progress) for `stallMs` while entries wait.
 * Seen from Redis, so every HTTP process can tell, wherever the processor runs.
 */
export class ProgressWatch {
  private acked: number | undefined;
  private since = Date.now();
  constructor(private readonly stallMs: number) {}

  check(depth: number | null, acked: number | null): string | undefined {
    const now = Date.now();
    if (depth === null || acked === null || depth === 0 || acked !== this.acked) {
      this.acked = acked ?? undefined;
      this.since = now;
      return undefined;
    }
    const idle = now - this.since;
    if (idle < this.stallMs) return undefined;
    return `processor stalled: nothing acknowledged for ${Math.round(idle / 1000)} s while ${depth} entries wait`;
  }
}

export interface StatusDeps {
  /** A client used only to know whether Redis is reachable right now (its status), without waiting. */
  probe: Redis;
  stream: EventStream;
  group: string;
  sink: PostgresSink | undefined;
  /** Checks the database when this process has no sink (an HTTP worker asks its primary); resolves when it answers. */
  database?: () => Promise<unknown>;
  watch: DepthWatch;
  progress?: ProgressWatch;
}

export async function readStatus(deps: StatusDeps): Promise<HealthBody> {
  const [info, database] = await Promise.all([
    deps.probe.status === 'ready'
      ? deadline(deps.stream.info(), REDIS_CHECK_MS, 'redis').catch(() => undefined)
      : undefined,
    deps.sink || deps.database
      ? deadline(
          deps.sink ? deps.sink.query('SELECT 1') : deps.database!(),
          DATABASE_CHECK_MS,
          'database',
        ).then(
          () => 'healthy' as const,
          () => 'unhealthy' as const,
        )
      : ('disabled' as const),
  ]);
  let depth: number | null = null;
  let pending: number | null = null;
  let consumers: number | null = null;
  let acked: number | null = null;
  if (info) {
    const group = info.groups.find((g) => g.name === deps.group);
    if (group && group.entriesRead !== null) acked = group.entriesRead - group.pending;
    pending = group?.pending ?? 0;
    consumers = group?.consumers ?? 0;
    // Without a group (processor not started yet) every entry is still to be written.
    depth = group ? (group.lag === null ? info.length : group.lag + group.pending) : info.length;
  }
  const redis = info ? 'healthy' : 'unhealthy';
  const reasons: string[] = [];
  if (redis === 'unhealthy') reasons.push('redis does not answer');
  if (database === 'unhealthy') reasons.push('database does not answer');
  const stalled = deps.progress?.check(depth, acked);
  if (stalled) reasons.push(stalled);
  const body: HealthBody = {
    status: reasons.length === 0 ? 'healthy' : 'unhealthy',
    redis,
    database,
    queue_depth: depth,
    queue_pending: pending,
    consumers,
  };
  const warnings = deps.watch.check(depth, pending);
  if (warnings.length > 0) body.warnings = warnings;
  if (reasons.length > 0) body.reasons = reasons;
  const spool = deps.stream.spoolStats();
  if (spool) {
    const degraded = spool.depth > 0 && spool.ageMs > SPOOL_DEGRADED_MS;
    body.spool = {
      state: spool.state,
      depth: spool.depth,
      bytes: spool.bytes,
      age_ms: spool.ageMs,
      degraded,
    };
    // A warning, not unhealthy: this process still takes events (it spools them), and a
    // load balancer taking it out of service would only stop its replay being watched.
    if (degraded)
      body.warnings = [
        ...(body.warnings ?? []),
        `spool degraded: ${spool.depth} calls held, the oldest ${Math.round(spool.ageMs / 1000)} s old`,
      ];
  }
  return body;
}
