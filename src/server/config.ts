import { resolveConnection } from '../redis/connection.js';
import { redactUrl } from '../redis/redact.js';
import { ValidationError } from '../util/errors.js';
import { type ApiToken, checkDistinct, namedTokens, plainTokens } from './tokens.js';

/** Everything `hopper serve` reads from its environment, checked once at start. */
export interface ServerConfig {
  redisUrl: string;
  /** A PostgreSQL URL, or undefined for embedded PGlite under `pgliteDir`. */
  databaseUrl: string | undefined;
  pgliteDir: string;
  /** HOST, or loopback when auth is off and HOST is unset (see security.md, Binding). */
  host: string;
  port: number;
  /** HTTP server processes (HTTP_WORKERS); above 1, `hopper serve` runs them on node:cluster. */
  httpWorkers: number;
  workerCount: number;
  batchSize: number;
  /** ms */
  processInterval: number;
  /** ms */
  shutdownTimeout: number;
  /** Bearer tokens with their names and scopes (HOPPER_API_TOKENS: every scope; HOPPER_TOKENS: named); secrets never logged. */
  tokens: ApiToken[];
  auth: boolean;
  /** bytes */
  bodyLimit: number;
  trackMaxEvents: number;
  /**
   * TRACK_SPOOL_DIR: while Redis does not answer, tracking events go to a spool under this
   * directory (one sub-directory per HTTP process) and get a 202 saying so; unset: 503.
   */
  trackSpoolDir: string | undefined;
  /** TRACK_SPOOL_MAX_BYTES: the spool's bound per HTTP process; past it, 503. */
  trackSpoolMaxBytes: number;
  queueDepthWarn: number;
  /** Run the StreamProcessor (stream -> PostgreSQL) in this process too. */
  processor: boolean;
  /** Trim the stream towards this many entries (never past unacknowledged ones); 0: never trim. */
  streamMaxLen: number;
  /** Dead letters kept, newest first (STREAM_DEAD_MAX_LEN); 0: never trimmed. */
  streamDeadMaxLen: number;
  /** ms without an acknowledgement, while entries wait, after which /health says the processor is stalled (PROCESSOR_STALL_TIMEOUT). */
  stallTimeout: number;
  /** Queues the jobs API accepts (HOPPER_QUEUES); others answer 404 unless autoCreateQueues. */
  queues: string[];
  /** Accept any valid queue name (HOPPER_QUEUES_AUTO_CREATE). */
  autoCreateQueues: boolean;
  /** ms a job submitted over HTTP is kept after it finishes (HOPPER_JOB_TTL). */
  jobTtl: number;
  /** Largest serialised job `data`, bytes (HOPPER_JOB_MAX_DATA). */
  jobMaxData: number;
  /** Job submissions per token per window (HOPPER_SUBMIT_LIMIT); 0: no limit. */
  submitLimit: number;
  /** ms (HOPPER_SUBMIT_WINDOW). */
  submitWindow: number;
  /** Extra tokens accepted on GET /metrics only (HOPPER_METRICS_TOKENS), for a scraper; never logged. */
  metricsTokens: string[];
  /** Days of metrics kept by this server's recorders, and the largest `days` accepted (HOPPER_METRICS_DAYS). */
  metricsDays: number;
  /** ms to receive a whole request, headers and body (HTTP_REQUEST_TIMEOUT). */
  requestTimeout: number;
  /** ms to receive a request's headers (HTTP_HEADERS_TIMEOUT); at most requestTimeout. */
  headersTimeout: number;
  /** ms an idle keep-alive connection stays open (HTTP_KEEP_ALIVE_TIMEOUT). */
  keepAliveTimeout: number;
  /** Open connections per process; more are refused (HTTP_MAX_CONNECTIONS). */
  maxConnections: number;
  /** Path of the web console (HOPPER_DASHBOARD_PATH, default /dashboard); null: off (HOPPER_DASHBOARD=off). */
  dashboardPath: string | null;
  /** ms between the console's shared snapshots while someone watches (HOPPER_DASHBOARD_INTERVAL). */
  dashboardInterval: number;
  /**
   * WebSocket updates at /api/v1/ws (HOPPER_WEBSOCKET): 'on' needs the optional peer `ws`,
   * 'auto' (default) serves them when `ws` is installed, 'off' never (docs/pubsub-and-locks.md).
   */
  websocket: 'on' | 'off' | 'auto';
  /** Largest message a WebSocket client may send, bytes (HOPPER_WS_MAX_MESSAGE); larger closes with 1009. */
  wsMaxMessage: number;
  /** ms between pings; a client that has not answered the last one by the next is cut (HOPPER_WS_PING_INTERVAL). */
  wsPingInterval: number;
  /** Not from the environment: fixed names, overridable by code (tests, embedding). */
  stream: string;
  group: string;
  table: string;
}

type Env = Record<string, string | undefined>;

export const DEFAULTS = {
  redisUrl: 'redis://127.0.0.1:6379',
  pgliteDir: './.hopper/pglite',
  host: '0.0.0.0',
  port: 8085,
  httpWorkers: 1,
  workerCount: 5,
  batchSize: 100,
  processInterval: 1000,
  shutdownTimeout: 30_000,
  bodyLimit: 1024 * 1024,
  trackMaxEvents: 500,
  queueDepthWarn: 10_000,
  streamMaxLen: 1_000_000,
  streamDeadMaxLen: 100_000,
  stallTimeout: 60_000,
  stream: 'track',
  group: 'db-writer',
  table: 'events',
  jobTtl: 24 * 3600_000,
  jobMaxData: 512 * 1024,
  submitLimit: 10,
  submitWindow: 60_000,
  metricsDays: 7,
  requestTimeout: 30_000,
  headersTimeout: 10_000,
  keepAliveTimeout: 5000,
  maxConnections: 1000,
} as const;

/** Where `hopper serve` listens when auth is off and HOST is unset: nobody else can reach a tokenless server. */
export const LOOPBACK = '127.0.0.1';

/** At most this many queues are open at once when auto-create is on (each holds a connection). */
export const MAX_QUEUES = 100;

/** Reads and checks the configuration; a bad value throws a ValidationError whose field is the variable. */
export function loadConfig(env: Env = process.env): ServerConfig {
  const auth = onOff(env, 'HOPPER_AUTH', true);
  // The old form (plain tokens) keeps meaning full access.
  const tokens = [
    ...plainTokens('HOPPER_API_TOKENS', env.HOPPER_API_TOKENS, ['admin']),
    ...namedTokens('HOPPER_TOKENS', env.HOPPER_TOKENS),
  ];
  const metricsTokens = plainTokens('HOPPER_METRICS_TOKENS', env.HOPPER_METRICS_TOKENS, ['metrics']);
  checkDistinct('HOPPER_TOKENS', [...tokens, ...metricsTokens]);
  if (auth && tokens.length === 0)
    throw new ValidationError(
      'HOPPER_API_TOKENS',
      'no tokens configured while HOPPER_AUTH is on: set comma-separated tokens (or HOPPER_TOKENS), or HOPPER_AUTH=off for a local demo',
    );
  const requestTimeout = duration(env, 'HTTP_REQUEST_TIMEOUT', DEFAULTS.requestTimeout, 1000, 3600_000);
  const headersTimeout = duration(env, 'HTTP_HEADERS_TIMEOUT', DEFAULTS.headersTimeout, 1000, 3600_000);
  // Node refuses a headers timeout above the request timeout.
  if (headersTimeout > requestTimeout)
    throw new ValidationError(
      'HTTP_HEADERS_TIMEOUT',
      `must be at most HTTP_REQUEST_TIMEOUT (${requestTimeout} ms)`,
    );
  return {
    redisUrl: redisUrl(env),
    databaseUrl: databaseUrl(env),
    pgliteDir: nonEmpty(env, 'HOPPER_PGLITE_DIR') ?? DEFAULTS.pgliteDir,
    host: nonEmpty(env, 'HOST') ?? (auth ? DEFAULTS.host : LOOPBACK),
    port: integer(env, 'PORT', DEFAULTS.port, 0, 65535),
    httpWorkers: integer(env, 'HTTP_WORKERS', DEFAULTS.httpWorkers, 1, 64),
    workerCount: integer(env, 'QUEUE_WORKER_COUNT', DEFAULTS.workerCount, 1, 1000),
    batchSize: integer(env, 'QUEUE_BATCH_SIZE', DEFAULTS.batchSize, 1, 10_000),
    processInterval: duration(env, 'QUEUE_PROCESS_INTERVAL', DEFAULTS.processInterval, 1),
    shutdownTimeout: duration(env, 'QUEUE_SHUTDOWN_TIMEOUT', DEFAULTS.shutdownTimeout, 0),
    tokens,
    auth,
    bodyLimit: bytes(env, 'BODY_LIMIT', DEFAULTS.bodyLimit),
    trackMaxEvents: integer(env, 'TRACK_MAX_EVENTS', DEFAULTS.trackMaxEvents, 1, 100_000),
    trackSpoolDir: nonEmpty(env, 'TRACK_SPOOL_DIR'),
    trackSpoolMaxBytes: integer(
      env,
      'TRACK_SPOOL_MAX_BYTES',
      256 * 1024 * 1024,
      64 * 1024,
      Number.MAX_SAFE_INTEGER,
    ),
    queueDepthWarn: integer(env, 'QUEUE_DEPTH_WARN', DEFAULTS.queueDepthWarn, 1, Number.MAX_SAFE_INTEGER),
    processor: onOff(env, 'HOPPER_PROCESSOR', true),
    streamMaxLen: integer(env, 'STREAM_MAX_LEN', DEFAULTS.streamMaxLen, 0, Number.MAX_SAFE_INTEGER),
    streamDeadMaxLen: integer(env, 'STREAM_DEAD_MAX_LEN', DEFAULTS.streamDeadMaxLen, 0, 2 ** 31 - 1),
    stallTimeout: duration(env, 'PROCESSOR_STALL_TIMEOUT', DEFAULTS.stallTimeout, 100),
    queues: queueList(env),
    autoCreateQueues: onOff(env, 'HOPPER_QUEUES_AUTO_CREATE', false),
    jobTtl: duration(env, 'HOPPER_JOB_TTL', DEFAULTS.jobTtl, 1000, 365 * 24 * 3600_000),
    jobMaxData: bytes(env, 'HOPPER_JOB_MAX_DATA', DEFAULTS.jobMaxData),
    submitLimit: integer(env, 'HOPPER_SUBMIT_LIMIT', DEFAULTS.submitLimit, 0, 1_000_000_000),
    submitWindow: duration(env, 'HOPPER_SUBMIT_WINDOW', DEFAULTS.submitWindow, 1000, 24 * 3600_000),
    metricsTokens: metricsTokens.map((t) => t.secret),
    metricsDays: integer(env, 'HOPPER_METRICS_DAYS', DEFAULTS.metricsDays, 1, 3650),
    requestTimeout,
    headersTimeout,
    keepAliveTimeout: duration(env, 'HTTP_KEEP_ALIVE_TIMEOUT', DEFAULTS.keepAliveTimeout, 1, 600_000),
    maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', DEFAULTS.maxConnections, 1, 1_000_000),
    dashboardPath: onOff(env, 'HOPPER_DASHBOARD', true) ? dashboardPath(env) : null,
    dashboardInterval: duration(env, 'HOPPER_DASHBOARD_INTERVAL', 2000, 250, 60_000),
    websocket: websocketMode(env),
    wsMaxMessage: integer(env, 'HOPPER_WS_MAX_MESSAGE', 64 * 1024, 256, 16 * 1024 * 1024),
    wsPingInterval: duration(env, 'HOPPER_WS_PING_INTERVAL', 30_000, 100, 600_000),
    stream: DEFAULTS.stream,
    group: DEFAULTS.group,
    table: DEFAULTS.table,
  };
}

function websocketMode(env: Env): 'on' | 'off' | 'auto' {
  const v = (nonEmpty(env, 'HOPPER_WEBSOCKET') ?? 'auto').toLowerCase();
  if (v === 'on' || v === 'off' || v === 'auto') return v;
  throw new ValidationError(
    'HOPPER_WEBSOCKET',
    `must be on, off or auto, got ${JSON.stringify(v.slice(0, 20))}`,
  );
}

/** `/dashboard`, `/ops/hopper`: starts with /, no trailing /, URL-safe characters. */
function dashboardPath(env: Env): string {
  const v = nonEmpty(env, 'HOPPER_DASHBOARD_PATH') ?? '/dashboard';
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(v))
    throw new ValidationError(
      'HOPPER_DASHBOARD_PATH',
      `must look like /dashboard or /ops/hopper, got ${JSON.stringify(v.slice(0, 60))}`,
    );
  return v;
}

function queueList(env: Env): string[] {
  const names = (env.HOPPER_QUEUES ?? '')
    .split(',')
    .map((q) => q.trim())
    .filter((q) => q.length > 0);
  for (const q of names)
    if (q.length > 200 || /[{}]/.test(q))
      throw new ValidationError(
        'HOPPER_QUEUES',
        `queue names are at most 200 characters without { or }, got ${JSON.stringify(q.slice(0, 40))}`,
      );
  if (names.length > MAX_QUEUES) throw new ValidationError('HOPPER_QUEUES', `at most ${MAX_QUEUES} queues`);
  return [...new Set(names)];
}

/** The API tokens and the scraper's (HOPPER_METRICS_TOKENS: GET /metrics only). */
export function allTokens(c: ServerConfig): ApiToken[] {
  return [...c.tokens, ...plainTokens('HOPPER_METRICS_TOKENS', c.metricsTokens.join(','), ['metrics'])];
}

/** What is safe to log: no tokens, no passwords. */
export function describeConfig(c: ServerConfig): Record<string, unknown> {
  return {
    redis: redactUrl(c.redisUrl),
    database: c.databaseUrl ? redactUrl(c.databaseUrl) : `pglite:${c.pgliteDir}`,
    port: c.port,
    httpWorkers: c.httpWorkers,
    workers: c.workerCount,
    batchSize: c.batchSize,
    processInterval: c.processInterval,
    shutdownTimeout: c.shutdownTimeout,
    host: c.host,
    auth: c.auth
      ? `on (${c.tokens.length} tokens: ${c.tokens.map((t) => `${t.name} [${t.scopes}]`).join(', ')})`
      : 'off',
    bodyLimit: c.bodyLimit,
    trackMaxEvents: c.trackMaxEvents,
    trackSpool: c.trackSpoolDir
      ? `${c.trackSpoolDir} (max ${c.trackSpoolMaxBytes} bytes per process)`
      : 'off',
    processor: c.processor,
    queues: c.autoCreateQueues ? `auto-create (${c.queues.length} listed)` : c.queues,
    jobTtl: c.jobTtl,
    submitLimit: c.submitLimit > 0 ? `${c.submitLimit} per ${c.submitWindow} ms per token` : 'off',
    metricsTokens: c.metricsTokens.length,
    timeouts: { request: c.requestTimeout, headers: c.headersTimeout, keepAlive: c.keepAliveTimeout },
    maxConnections: c.maxConnections,
    dashboard: c.dashboardPath ?? 'off',
  };
}

function nonEmpty(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function redisUrl(env: Env): string {
  const url = nonEmpty(env, 'REDIS_URL') ?? DEFAULTS.redisUrl;
  try {
    resolveConnection(url);
  } catch (err) {
    const problem = err instanceof ValidationError ? err.message.replace(/^connection: /, '') : 'invalid';
    throw new ValidationError('REDIS_URL', problem);
  }
  return url;
}

function databaseUrl(env: Env): string | undefined {
  const url = nonEmpty(env, 'DATABASE_URL');
  if (url === undefined) return undefined;
  let ok = /^postgres(ql)?:\/\//.test(url);
  if (ok)
    try {
      new URL(url);
    } catch {
      ok = false;
    }
  if (!ok)
    throw new ValidationError(
      'DATABASE_URL',
      `must be a postgres:// or postgresql:// URL (or unset for PGlite), got ${redactUrl(url)}`,
    );
  return url;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const v = nonEmpty(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  throw new ValidationError(name, `must be on or off, got ${JSON.stringify(v)}`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new ValidationError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `1s`, `500ms`, `2m`, `24h`, `7d`, or a plain number of ms (the seed's Go-style durations, without compounds). */
export function duration(env: Env, name: string, fallback: number, min: number, max = 24 * 3600_000): number {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v);
  const ms = m ? Math.round(Number(m[1]) * UNITS_MS[m[2] ?? 'ms']!) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < min || ms > max)
    throw new ValidationError(
      name,
      `must be a duration like 1s, 500ms, 2m, 24h or a number of ms (at least ${min} ms, at most ${max} ms), got ${JSON.stringify(v)}`,
    );
  return ms;
}

const UNITS_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `1048576`, `512kb`, `1mb` (binary units). */
function bytes(env: Env, name: string, fallback: number): number {
  const v = nonEmpty(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  const m = /^(\d+)(b|kb|mb)?$/.exec(v);
  const n = m ? Number(m[1]) * UNITS_BYTES[m[2] ?? 'b']! : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1024 || n > 100 * 1024 * 1024)
    throw new ValidationError(
      name,
      `must be a size from 1kb to 100mb (bytes, or kb/mb), got ${JSON.stringify(v)}`,
    );
  return n;
}
