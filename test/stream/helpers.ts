import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PGlite } from '@electric-sql/pglite';
import { pino } from 'pino';
import { type PostgresSink, postgresSink } from '../../src/stream/index.js';

/** Shared by the stream tests: names, polling, tracking events and the PostgreSQL backends to run against. */
export const quiet = pino({ level: 'silent' });

let counter = 0;
export function unique(label: string): string {
  return `${label}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
}

export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** A seed-004 tracking event. */
export function trackEvent(n: number, overrides: Record<string, unknown> = {}) {
  return {
    session_id: '123e4567-e89b-12d3-a456-426614174000',
    event_type: 'click',
    page_url: `http://example.com/p/${n}`,
    target_element: 'button',
    timestamp: new Date(Date.UTC(2025, 0, 19, 10, 0, n % 60)).toISOString(),
    n,
    ...overrides,
  };
}

/**
 * A PostgreSQL backend for one test file: PGlite always (one in-memory database per
 * file, because starting PGlite costs seconds; each test gets its own table), plus the
 * real server when DATABASE_URL is set (each test gets its own schema, dropped after).
 */
export interface Backend {
  name: 'pglite' | 'pg';
  /** A sink writing to a fresh table no other test uses. */
  sink(): PostgresSink;
  /** Rows in the sink's table: total and distinct ids. */
  counts(sink: PostgresSink): Promise<{ rows: number; distinct: number }>;
  close(): Promise<void>;
}

export function backends(): Backend[] {
  const list: Backend[] = [pgliteBackend()];
  if (process.env.DATABASE_URL) list.push(pgBackend(process.env.DATABASE_URL));
  return list;
}

async function counts(sink: PostgresSink) {
  const [row] = await sink.query<{ rows: number; distinct: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS distinct FROM ${sink.table}`,
  );
  return row!;
}

function pgliteBackend(): Backend {
  let db: Promise<PGlite> | undefined;
  const sinks: PostgresSink[] = [];
  const open = () => {
    db ??= import('@electric-sql/pglite').then(async ({ PGlite }) => {
      const p = new PGlite('memory://');
      await p.waitReady;
      return p;
    });
    return db;
  };
  return {
    name: 'pglite',
    sink() {
      // The PGlite instance is created lazily and shared: the sink waits for it on first use.
      let real: PostgresSink | undefined;
      const table = unique('events');
      const get = async () => {
        real ??= postgresSink({ pglite: await open(), table, databaseUrl: '' });
        return real;
      };
      const sink = (async (batch) => (await get())(batch)) as PostgresSink;
      const out = Object.assign(sink, {
        backend: 'pglite' as const,
        table: `"${table}"`,
        ready: async () => (await get()).ready(),
        query: async <T>(sql: string, params?: unknown[]) => (await get()).query<T>(sql, params),
        close: async () => (await get()).close(),
      });
      sinks.push(out);
      return out;
    },
    counts,
    async close() {
      if (db) await (await db).close();
    },
  };
}

function pgBackend(url: string): Backend {
  const schemas: string[] = [];
  const sinks: PostgresSink[] = [];
  return {
    name: 'pg',
    sink() {
      const schema = unique('hopper_test');
      schemas.push(schema);
      const s = postgresSink({ databaseUrl: url, table: `${schema}.events`, poolSize: 4 });
      sinks.push(s);
      return s;
    },
    counts,
    async close() {
      const admin = postgresSink({ databaseUrl: url, table: unique('unused') });
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.close();
      for (const s of sinks) await s.close().catch(() => {});
    },
  };
}
