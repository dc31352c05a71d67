import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { PrometheusExporter } from '../../metrics/prometheus.js';
import { readMetrics } from '../../metrics/reader.js';
import { queueKeys } from '../../queue/keys.js';
import type { EventStream } from '../../stream/event-stream.js';
import { type ApiRoute, fastifySchema, route } from '../api-schemas.js';
import { openApiDocument } from '../openapi.js';
import type { JobQueues } from '../queues.js';

export interface MetricsDeps {
  client: Redis;
  queues: JobQueues;
  stream: EventStream;
  version: string;
}

/** GET /api/v1/metrics (JSON summary), GET /metrics (Prometheus) and GET /api/v1/openapi.json. */
export function metricsRoutes(app: FastifyInstance, routes: ApiRoute[], deps: MetricsDeps): void {
  const summary = route(routes, 'GET', '/api/v1/metrics');
  app.route<{ Querystring: { days: number; queue?: string } }>({
    method: summary.method,
    url: summary.url,
    schema: fastifySchema(summary),
    handler: async (req, reply) => {
      const { days, queue } = req.query;
      const names = await deps.queues.names(deps.client);
      if (queue !== undefined && !names.includes(queue))
        return reply.code(404).send({ error: `unknown queue ${JSON.stringify(queue)}` });
      const chosen = queue === undefined ? names : [queue];
      const all = await Promise.all(
        chosen.map((name) => readMetrics(deps.client, queueKeys('hopper', name).tag, name, { days })),
      );
      return reply.send({ days, queues: Object.fromEntries(all.map((m) => [m.queue, m])) });
    },
  });

  const exporter = new PrometheusExporter({
    client: deps.client,
    prefix: 'hopper',
    queues: () => deps.queues.names(deps.client),
    streams: [{ name: deps.stream.name, info: () => deps.stream.info() }],
  });
  const prom = route(routes, 'GET', '/metrics');
  app.route({
    method: prom.method,
    url: prom.url,
    handler: async (_req, reply) => reply.type(exporter.contentType).send(await exporter.render()),
  });

  const openapi = route(routes, 'GET', '/api/v1/openapi.json');
  const document = openApiDocument(routes, deps.version);
  app.route({ method: openapi.method, url: openapi.url, handler: async () => document });
}
