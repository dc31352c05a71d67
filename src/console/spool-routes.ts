import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { registryKey } from '../queue/keys.js';
import { readQueueSpools } from '../spool/report.js';
import type { SharedReads } from './hub.js';

/**
 * GET /api/spools: producers' spools that hold calls (Redis was away or slow), per
 * queue, as the producers report them (src/spool/report.ts). Read at most once per
 * refresh interval whatever the number of open pages. A producer still cut off from
 * Redis cannot report: its spool shows once it reaches Redis again, while it replays.
 */
export function spoolRoutes(
  app: FastifyInstance,
  d: { client: Redis; prefix: string; reads: SharedReads; intervalMs: number },
): void {
  app.get('/api/spools', () =>
    d.reads.get('spools', d.intervalMs, async () => {
      const names = (await d.client.smembers(registryKey(d.prefix))).sort();
      const now = Date.now();
      const queues = await readQueueSpools(d.client, d.prefix, names, now);
      return {
        spools: queues.flatMap((q) =>
          q.reports.map((r) => ({
            queue: q.queue,
            producer: `${r.host}:${r.pid}`,
            state: r.state,
            depth: r.depth,
            bytes: r.bytes,
            ageMs: r.oldest === null ? 0 : Math.max(0, now - r.oldest),
          })),
        ),
      };
    }),
  );
}
