// Seed 004: tracking events accepted into a Redis Stream in about a round trip, written to
// PostgreSQL by 5 consumers in batches of 100 or every second, nothing lost.
// Run from a checkout: REDIS_URL=redis://127.0.0.1:6379 [DATABASE_URL=postgres://...] npx tsx examples/004-tracking-ingestion.ts
// Without DATABASE_URL it writes to embedded PGlite (PGLITE_DIR, default ./.hopper/example-004).
import { randomUUID } from 'node:crypto';
import { EventStream, postgresSink, StreamProcessor } from 'hopper-queue/stream';

const table = process.env.TABLE ?? 'tracking_events';
const stream = new EventStream('tracking');
const sink = postgresSink({ table, dataDir: process.env.PGLITE_DIR ?? './.hopper/example-004' });
const processor = new StreamProcessor(stream, 'db-writers', {
  sink,
  consumers: 5,
  batchSize: 100,
  flushInterval: 1_000,
});

// What the track handler does per request: one append for the request's events, then 202.
const session_id = randomUUID();
const at = Date.now();
for (let request = 0; request < 20; request++) {
  const events = Array.from({ length: 25 }, (_, i) => ({
    session_id,
    event_type: i % 2 ? 'scroll' : 'click',
    page_url: 'http://example.com',
    target_element: 'button',
    timestamp: new Date(at + request * 25 + i).toISOString(),
  }));
  await stream.appendBatch(events);
}

// The processor drains in the background; wait until every event of this session is stored.
let stored = 0;
while (stored < 500) {
  await new Promise((r) => setTimeout(r, 200));
  const [row] = await sink.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE session_id = $1`,
    [session_id],
  );
  stored = row?.n ?? 0;
}
await processor.close();
await sink.close();
await stream.close();
console.log(JSON.stringify({ example: '004', backend: sink.backend, stored }));
