/**
 * Sustained rows/s into PostgreSQL, apart from HTTP: a backlog of tracking events is
 * appended to a stream first, then a StreamProcessor with the server's settings writes
 * it to the database; rows/s is the backlog over the time until every entry is
 * acknowledged. Without a backlog the rows/s of the HTTP cases can be no more than the
 * events accepted/s, which says how fast the load generator is, not the database.
 */
import { pino } from 'pino';
import { EventStream, postgresSink, StreamProcessor } from '../../src/stream/index.js';

export interface DrainSpec {
  redisUrl: string;
  databaseUrl: string;
  pgliteDir: string;
  events: number;
  consumers: number;
  batchSize: number;
  /** 1: one entry per event (append/appendMany); more: appendBatch entries of this many, as the track route writes a request. */
  eventsPerEntry: number;
}

export interface DrainResult {
  rowsPerSecond: number;
  rows: number;
  /** Node CPU (user + system) of the processor per row, microseconds. */
  cpuUsPerRow: number;
  /** Share of the consumers' time spent inside sink calls (the INSERT); the rest is Redis reads, acks and Node. */
  sinkShare: number;
  /** Mean sink call, ms. */
  sinkMs: number;
}

const event = (i: number) => ({
  session_id: '123e4567-e89b-12d3-a456-426614174000',
  timestamp: '2025-01-19T10:00:00Z',
  event_type: 'click',
  page_url: `http://example.com/p/${i}`,
  target_element: 'button',
});

export async function measureDrain(spec: DrainSpec): Promise<DrainResult> {
  const name = `bench_drain_${spec.batchSize}_${Date.now()}`;
  const logger = pino({ level: 'silent' });
  const stream = new EventStream(name, { connection: spec.redisUrl, logger });
  const sink = postgresSink({ databaseUrl: spec.databaseUrl, dataDir: spec.pgliteDir, table: name });
  try {
    await sink.ready();
    for (let at = 0; at < spec.events; at += 1000) {
      const events = Array.from({ length: Math.min(1000, spec.events - at) }, (_, i) => event(at + i));
      if (spec.eventsPerEntry === 1) await stream.appendMany(events);
      else {
        const batches: Promise<string[]>[] = [];
        for (let i = 0; i < events.length; i += spec.eventsPerEntry)
          batches.push(stream.appendBatch(events.slice(i, i + spec.eventsPerEntry)));
        await Promise.all(batches);
      }
    }
    const processor = new StreamProcessor(stream, 'db-writer', {
      connection: spec.redisUrl,
      sink,
      consumers: spec.consumers,
      batchSize: spec.batchSize,
      logger,
    });
    let written = 0;
    let sinkMs = 0;
    let calls = 0;
    processor.on('batch', (n: number, ms: number) => {
      written += n;
      sinkMs += ms;
      calls++;
    });
    const cpu = process.cpuUsage();
    const started = performance.now();
    while (written < spec.events) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    await processor.close();
    const [row] = await sink.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sink.table}`);
    return {
      rowsPerSecond: spec.events / seconds,
      rows: row!.n,
      cpuUsPerRow: (used.user + used.system) / spec.events,
      sinkShare: sinkMs / (seconds * 1000 * spec.consumers),
      sinkMs: sinkMs / calls,
    };
  } finally {
    await sink.query(`DROP TABLE IF EXISTS ${sink.table}`).catch(() => {});
    await sink.close();
    await stream.close();
  }
}
