import { mkdirSync } from 'node:fs';
import { redactError, redactUrl } from '../redis/redact.js';
import { ValidationError } from '../util/errors.js';
import { importOptional } from '../util/optional.js';
import { isDataError, SinkDataError } from './sink-error.js';
import type { Sink, StreamEntry } from './types.js';

/**
 * What the sink uses of a PGlite instance. Structural, so the shipped types do not need
 * `@electric-sql/pglite` (an optional peer) installed; a PGlite satisfies it.
 */
export interface PGliteLike {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface PostgresSinkOptions {
  /** A PostgreSQL URL. Default: env DATABASE_URL; when neither is set, embedded PGlite serves. */
  databaseUrl?: string;
  /** Table, optionally schema-qualified (`tracking.events`); created on start. Default `events`. */
  table?: string;
  /** PGlite data directory when no database URL is given. Default `./.hopper/pglite`. */
  dataDir?: string;
  /** An open PGlite to use instead of `dataDir` (not closed by `close()`). */
  pglite?: PGliteLike;
  /** Connections in the pg pool (default 10). */
  poolSize?: number;
}

/** A sink that also owns its database connection. */
export interface PostgresSink extends Sink {
  readonly backend: 'pg' | 'pglite';
  readonly table: string;
  /** Connects and creates the table; sink calls do this on their own first. */
  ready(): Promise<void>;
  /** Runs a query on the sink's database (tests, health checks). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

interface Driver {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const ID = /^\d+-\d+(?::\d+)?$/;

/**
 * Writes batches to PostgreSQL: one INSERT ... SELECT FROM jsonb_array_elements($1)
 * per batch (one statement, so one implicit transaction, whatever the batch size),
 * keyed by the event id (the stream entry id, plus `:<index>` for an event of an
 * appendBatch entry) with ON CONFLICT (id) DO NOTHING, so a redelivered
 * batch never duplicates a row. The batch travels as one JSON text built by
 * concatenating each entry's stored JSON: Node neither re-serialises events nor
 * escapes array literals, and PostgreSQL lifts the tracking columns itself. `pg`
 * serves a real server; PGlite (embedded PostgreSQL in WebAssembly) serves when no URL
 * is given, so the pipeline runs with no database installed. Each driver is imported
 * only when used.
 */
export function postgresSink(options: PostgresSinkOptions = {}): PostgresSink {
  const table = parseTable(options.table ?? 'events');
  const url = options.databaseUrl ?? process.env.DATABASE_URL ?? '';
  const backend: 'pg' | 'pglite' = url && !options.pglite ? 'pg' : 'pglite';
  if (url && !/^postgres(ql)?:\/\//.test(url))
    throw new ValidationError(
      'databaseUrl',
      `must start with postgres:// or postgresql://, got ${redactUrl(url)}`,
    );
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1)
    throw new ValidationError('poolSize', `must be a positive integer, got ${String(poolSize)}`);

  let driver: Promise<Driver> | undefined;
  let prepared: Promise<Driver> | undefined;
  let closed = false;
  const connect = () => {
    driver ??= backend === 'pg' ? pgDriver(url, poolSize) : pgliteDriver(options);
    return driver;
  };
  // Retried on the next call if it failed (say, the database was down at start).
  const ready = (): Promise<Driver> => {
    prepared ??= (async () => {
      const db = await connect();
      await createTable(db, table);
      return db;
    })().catch((err) => {
      prepared = undefined;
      throw clean(err, url);
    });
    return prepared;
  };
  const insert = insertSql(table.quoted);

  const sink = (async (batch: StreamEntry[]) => {
    if (closed) throw new Error('postgres sink is closed');
    if (batch.length === 0) return;
    const db = await ready();
    try {
      await db.query(insert, [batchJson(batch)]);
    } catch (err) {
      throw clean(err, url);
    }
  }) as PostgresSink;

  return Object.assign(sink, {
    backend,
    table: table.quoted,
    ready: async () => {
      await ready();
    },
    query: async <T>(sql: string, params?: unknown[]) => {
      const db = await connect();
      return (await db.query(sql, params).catch((err) => {
        throw clean(err, url);
      })) as T[];
    },
    close: async () => {
      closed = true;
      if (driver) await (await driver.catch(() => undefined))?.close();
    },
  });
}

function parseTable(name: string): { schema: string | undefined; quoted: string } {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENT.test(p)))
    throw new ValidationError(
      'table',
      `must be an identifier or schema.identifier, got ${JSON.stringify(name)}`,
    );
  return {
    schema: parts.length === 2 ? parts[0] : undefined,
    quoted: parts.map((p) => `"${p}"`).join('.'),
  };
}

async function createTable(db: Driver, table: { schema: string | undefined; quoted: string }): Promise<void> {
  const statements = [
    ...(table.schema ? [`CREATE SCHEMA IF NOT EXISTS "${table.schema}"`] : []),
    `CREATE TABLE IF NOT EXISTS ${table.quoted} (
      id TEXT PRIMARY KEY,
      stream TEXT NOT NULL,
      received_at TIMESTAMPTZ NOT NULL,
      data JSONB NOT NULL,
      session_id TEXT,
      event_type TEXT,
      page_url TEXT,
      target_element TEXT,
      "timestamp" TIMESTAMPTZ
    )`,
  ];
  for (const sql of statements) {
    try {
      await db.query(sql);
    } catch (err) {
      // Two processes creating the same table at once: one wins, the other sees a duplicate.
      if (!/already exists|duplicate key/.test(String((err as Error).message))) throw err;
    }
  }
}

/**
 * The batch as one JSON array of `{"i": id, "t": append ms, "s": stream, "d": event}`.
 * `d` is the event's stored JSON spliced in unchanged (it is JSON already); ids are
 * `<ms>-<seq>`, or `<ms>-<seq>:<index>` for an event of an appendBatch entry, so they
 * need no escaping.
 */
export function batchJson(batch: StreamEntry[]): string {
  let out = '[';
  let lastStream = '';
  let streamJson = '""';
  for (let i = 0; i < batch.length; i++) {
    const e = batch[i]!;
    if (e.stream !== lastStream) {
      lastStream = e.stream;
      streamJson = JSON.stringify(e.stream);
    }
    const id = String(e.id);
    if (!ID.test(id))
      throw new ValidationError(
        'id',
        `must be a stream entry id <ms>-<seq> or <ms>-<seq>:<index>, got ${JSON.stringify(id)}`,
      );
    const json = e.json ?? JSON.stringify(e.data) ?? 'null';
    out += `${i === 0 ? '' : ','}{"i":"${id}","t":${id.slice(0, id.indexOf('-'))},"s":${streamJson},"d":${json}}`;
  }
  return `${out}]`;
}

/** A tracking column: the event's field when it is a JSON string, else NULL. */
const field = (name: string) =>
  `CASE WHEN jsonb_typeof(e->'d'->'${name}') = 'string' THEN e->'d'->>'${name}' END`;

/**
 * received_at is the append time, taken from the entry id (`<ms>-<seq>`), so a
 * redelivery writes the same row. Seed 004's tracking fields are lifted into columns
 * when present as strings.
 */
function insertSql(table: string): string {
  return `INSERT INTO ${table} (id, stream, received_at, data, session_id, event_type, page_url, target_element, "timestamp")
SELECT e->>'i', e->>'s', to_timestamp((e->>'t')::float8 / 1000.0), e->'d', ${field('session_id')}, ${field('event_type')},
       ${field('page_url')}, ${field('target_element')}, (${field('timestamp')})::timestamptz
FROM jsonb_array_elements($1::jsonb) AS e
ON CONFLICT (id) DO NOTHING`;
}

async function pgDriver(url: string, max: number): Promise<Driver> {
  const { default: pg } = await importOptional('pg', 'postgresSink with a database URL', () => import('pg'));
  // A bounded connect wait: a hung server must fail the batch (it is retried), not hang it.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {}); // an idle client lost its server: the pool replaces it
  return {
    query: async (sql, params) => (await pool.query(sql, params as unknown[])).rows,
    close: () => pool.end(),
  };
}

async function pgliteDriver(options: PostgresSinkOptions): Promise<Driver> {
  if (options.pglite) {
    const db = options.pglite;
    return {
      query: async (sql, params) => (await db.query(sql, params)).rows as Record<string, unknown>[],
      close: async () => {},
    };
  }
  const { PGlite } = await importOptional(
    '@electric-sql/pglite',
    'postgresSink without a database URL (embedded PGlite)',
    () => import('@electric-sql/pglite'),
  );
  const dir = options.dataDir ?? './.hopper/pglite';
  if (!dir.startsWith('memory://') && !dir.startsWith('idb://')) mkdirSync(dir, { recursive: true });
  const db = new PGlite(dir);
  await db.waitReady;
  return {
    query: async (sql, params) => (await db.query(sql, params)).rows as Record<string, unknown>[],
    close: () => db.close(),
  };
}

/**
 * The error without secrets, keeping PostgreSQL's SQLSTATE (`code`): one about the data
 * (class 22, 23, 54) becomes a SinkDataError, which the processor isolates and
 * dead-letters instead of taking it for an outage.
 */
function clean(err: unknown, url: string): Error {
  const secret = url
    ? (() => {
        try {
          return decodeURIComponent(new URL(url).password);
        } catch {
          return '';
        }
      })()
    : '';
  const out = redactError(err, [secret]);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return out;
  if (isDataError(err)) {
    const data = new SinkDataError(`${out.message} (SQLSTATE ${code})`, code);
    data.stack = out.stack;
    return data;
  }
  return Object.assign(out, { code });
}
