import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { PrometheusExporter } from '../../metrics/prometheus.js';
import { readMetricsOf } from '../../metrics/reader.js';
import type { QueueMetrics } from '../../metrics/types.js';
import { partitionKeys, readPartitionCounts } from '../../queue/partitions/registry.js';
import { registerSpoolGauges } from '../../spool/prometheus.js';
import type { EventStream } from '../../stream/event-stream.js';
import { type ApiRoute, fastifySchema, route } from '../api-schemas.js';
import { callerOf, isAdmin } from '../auth.js';
import { openApiDocument } from '../openapi.js';
import type { JobQueues } from '../queues.js';
import { answering503, fromRedis, redisGate } from '../redis-gate.js';

export interface MetricsDeps {
  /** The server's probe connection: reads go through it, and its status gates the routes. */
  client: Redis;
  queues: JobQueues;
  stream: EventStream;
  version: string;
}

/**
 * Failed jobs as a non-admin token sees them: which job failed, when and how (error name and
 * message), without the job's data or the stack (server paths, and other tokens' payloads).
 */
export function withoutFailureDetails(m: QueueMetrics): QueueMetrics {
  return {
    ...m,
    recentFailures: m.recentFailures.map(({ data: _data, error, ...rest }) => ({
      ...rest,
      error: { name: error.name, message: error.message },
    })),
  };
}

/** GET /api/v1/metrics (JSON summary), GET /metrics (Prometheus) and GET /api/v1/openapi.json. */
export function metricsRoutes(app: FastifyInstance, routes: ApiRoute[], deps: MetricsDeps): void {
  const gate = redisGate(deps.client);
  const summary = route(routes, 'GET', '/api/v1/metrics');
  app.route<{ Querystring: { days: number; queue?: string } }>({
    method: summary.method,
    url: summary.url,
    schema: fastifySchema(summary),
    onRequest: [gate],
    handler: answering503(async (req, reply) => {
      const { days, queue } = req.query;
      const read = async () => {
        const names = await deps.queues.names(deps.client);
        if (queue !== undefined && !names.includes(queue)) return undefined;
        const chosen = queue === undefined ? names : [queue];
        // A partitioned queue's partitions summed (counters and histogram buckets: exact percentiles).
        const counts = await readPartitionCounts(deps.client, 'hopper');
        return Promise.all(
          chosen.map((name) =>
            readMetricsOf(
              partitionKeys('hopper', name, counts).map((k) => ({ client: deps.client, tag: k.tag })),
              name,
              { days },
            ),
          ),
        );
      };
      const all = await fromRedis(read(), 'metrics');
      if (!all) return reply.code(404).send({ error: `unknown queue ${JSON.stringify(queue)}` });
      const shown = isAdmin(callerOf(req)) ? all : all.map(withoutFailureDetails);
      return reply.send({ days, queues: Object.fromEntries(shown.map((m) => [m.queue, m])) });
    }),
  });

  const exporter = new PrometheusExporter({
    client: deps.client,
    prefix: 'hopper',
    queues: () => deps.queues.names(deps.client),
    streams: [{ name: deps.stream.name, info: () => deps.stream.info() }],
  });
  registerSpoolGauges(exporter.registry, () => [
    { kind: 'stream', name: deps.stream.name, stats: () => deps.stream.spoolStats() },
  ]);
  const prom = route(routes, 'GET', '/metrics');
  app.route({
    method: prom.method,
    url: prom.url,
    onRequest: [gate],
    handler: answering503(async (_req, reply) => {
      const text = await fromRedis(exporter.render(), 'metrics');
      return reply.type(exporter.contentType).send(text);
    }),
  });

  const openapi = route(routes, 'GET', '/api/v1/openapi.json');
  const document = openApiDocument(routes, deps.version);
  app.route({ method: openapi.method, url: openapi.url, handler: async () => document });
}
