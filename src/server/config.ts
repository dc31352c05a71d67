import { resolveConnection } from '../redis/connection.js';
import { redactUrl } from '../redis/redact.js';
import { ValidationError } from '../util/errors.js';

/** Everything `hopper serve` reads from its environment, checked once at start. */
export interface ServerConfig {
  redisUrl: string;
  /** A PostgreSQL URL, or undefined for embedded PGlite under `pgliteDir`. */
  databaseUrl: string | undefined;
  pgliteDir: string;
  host: string;
  port: number;
  workerCount: number;
  batchSize: number;
  /** ms */
  processInterval: number;
  /** ms */
  shutdownTimeout: number;
  /** Bearer tokens; never logged. */
  tokens: string[];
  auth: boolean;
  /** bytes */
  bodyLimit: number;
  trackMaxEvents: number;
  queueDepthWarn: number;
  /** Run the StreamProcessor (stream -> PostgreSQL) in this process too. */
  processor: boolean;
  /** Trim the stream towards this many entries (never past unacknowledged ones); 0: never trim. */
  streamMaxLen: number;
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
  workerCount: 5,
  batchSize: 100,
  processInterval: 1000,
  shutdownTimeout: 30_000,
  bodyLimit: 1024 * 1024,
  trackMaxEvents: 500,
  queueDepthWarn: 10_000,
  streamMaxLen: 1_000_000,
  stream: 'track',
  group: 'db-writer',
  table: 'events',
} as const;

/** Reads and checks the configuration; a bad value throws a ValidationError whose field is the variable. */
export function loadConfig(env: Env = process.env): ServerConfig {
  const auth = onOff(env, 'HOPPER_AUTH', true);
  const tokens = (env.HOPPER_API_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  for (const t of tokens)
    if (t.length < 16 || /\s/.test(t))
      // The message never quotes the token.
      throw new ValidationError('HOPPER_API_TOKENS', 'each token must be at least 16 characters, no spaces');
  if (auth && tokens.length === 0)
    throw new ValidationError(
      'HOPPER_API_TOKENS',
      'no tokens configured while HOPPER_AUTH is on: set comma-separated tokens, or HOPPER_AUTH=off for a local demo',
    );
  return {
    redisUrl: redisUrl(env),
    databaseUrl: databaseUrl(env),
    pgliteDir: nonEmpty(env, 'HOPPER_PGLITE_DIR') ?? DEFAULTS.pgliteDir,
    host: nonEmpty(env, 'HOST') ?? DEFAULTS.host,
    port: integer(env, 'PORT', DEFAULTS.port, 0, 65535),
    workerCount: integer(env, 'QUEUE_WORKER_COUNT', DEFAULTS.workerCount, 1, 1000),
    batchSize: integer(env, 'QUEUE_BATCH_SIZE', DEFAULTS.batchSize, 1, 10_000),
    processInterval: duration(env, 'QUEUE_PROCESS_INTERVAL', DEFAULTS.processInterval, 1),
    shutdownTimeout: duration(env, 'QUEUE_SHUTDOWN_TIMEOUT', DEFAULTS.shutdownTimeout, 0),
    tokens,
    auth,
    bodyLimit: bytes(env, 'BODY_LIMIT', DEFAULTS.bodyLimit),
    trackMaxEvents: integer(env, 'TRACK_MAX_EVENTS', DEFAULTS.trackMaxEvents, 1, 100_000),
    queueDepthWarn: integer(env, 'QUEUE_DEPTH_WARN', DEFAULTS.queueDepthWarn, 1, Number.MAX_SAFE_INTEGER),
    processor: onOff(env, 'HOPPER_PROCESSOR', true),
    streamMaxLen: integer(env, 'STREAM_MAX_LEN', DEFAULTS.streamMaxLen, 0, Number.MAX_SAFE_INTEGER),
    stream: DEFAULTS.stream,
    group: DEFAULTS.group,
    table: DEFAULTS.table,
  };
}

/** What is safe to log: no tokens, no passwords. */
export function describeConfig(c: ServerConfig): Record<string, unknown> {
  return {
    redis: redactUrl(c.redisUrl),
    database: c.databaseUrl ? redactUrl(c.databaseUrl) : `pglite:${c.pgliteDir}`,
    port: c.port,
    workers: c.workerCount,
    batchSize: c.batchSize,
    processInterval: c.processInterval,
    shutdownTimeout: c.shutdownTimeout,
    auth: c.auth ? `on (${c.tokens.length} tokens)` : 'off',
    bodyLimit: c.bodyLimit,
    trackMaxEvents: c.trackMaxEvents,
    processor: c.processor,
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

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `1s`, `500ms`, `2m`, or a plain number of ms (the seed's Go-style durations, without compounds). */
export function duration(env: Env, name: string, fallback: number, min: number): number {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  const ms = m ? Math.round(Number(m[1]) * UNITS_MS[m[2] ?? 'ms']!) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < min || ms > 24 * 3600_000)
    throw new ValidationError(
      name,
      `must be a duration like 1s, 500ms, 2m or a number of ms (at least ${min} ms, at most 24h), got ${JSON.stringify(v)}`,
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
