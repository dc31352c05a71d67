/**
 * Every route of the server described once: Fastify validates params and query
 * strings with these schemas, and openapi.ts builds /api/v1/openapi.json from them,
 * so the document cannot drift from the routes. Bodies are checked by the handlers
 * (the queue's own validation names the field, e.g. `opts.delay`), and their
 * schemas here document them.
 */
import { pullRoutes } from './pull-schemas.js';
import type { Scope } from './tokens.js';

type Schema = Record<string, unknown>;

export interface ApiResponse {
  description: string;
  schema?: Schema;
  /** Default application/json. */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** Fastify syntax: `/api/v1/queues/:queue/jobs`. */
  url: string;
  operationId: string;
  summary: string;
  /** false: no bearer token needed. */
  auth: boolean;
  /** A token needs one of these scopes (admin has them all); see docs/security.md. */
  scopes: Scope[];
  params?: Schema;
  querystring?: Schema;
  body?: Schema;
  responses: Record<number, ApiResponse>;
}

const error: Schema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string' },
    field: { type: 'string', description: 'the offending field, for 400' },
  },
};
const queueParam: Schema = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^{}]+$' };
const jobId: Schema = { type: 'string', minLength: 1, maxLength: 256 };
const timing: Schema = {
  type: 'object',
  description: 'ms, from fixed log-spaced histogram buckets (each about 19% wide)',
  properties: {
    count: { type: 'integer' },
    avg: { type: 'number' },
    p50: { type: 'number' },
    p95: { type: 'number' },
    p99: { type: 'number' },
  },
};
export const queueMetricsSchema: Schema = {
  type: 'object',
  properties: {
    queue: { type: 'string' },
    window: { type: 'object' },
    totalJobs: { type: 'integer', description: 'jobs added' },
    completedJobs: { type: 'integer' },
    failedJobs: { type: 'integer', description: 'jobs failed for good' },
    retriedJobs: { type: 'integer', description: 'failed attempts that were retried' },
    stalledJobs: { type: 'integer' },
    avgExecutionTime: { type: 'number' },
    p50ExecutionTime: { type: 'number' },
    p95ExecutionTime: { type: 'number' },
    p99ExecutionTime: { type: 'number' },
    execution: timing,
    wait: timing,
    rateLimit: { type: 'object', properties: { hits: { type: 'integer' }, blocked: { type: 'integer' } } },
    recentFailures: { type: 'array', items: { type: 'object' } },
  },
};
const unauthorized = { description: 'missing or wrong bearer token', schema: error };
const forbidden = { description: 'the token lacks the scope this route needs', schema: error };
const unavailable = {
  description: 'Redis unreachable or not answering within 2 s; retry after Retry-After seconds',
  headers: { 'Retry-After': 'seconds' },
  schema: error,
};
const rateLimitHeaders = {
  RateLimit: 'remaining and reset, IETF draft: "submit";r=<remaining>;t=<s>',
  'RateLimit-Policy': '"submit";q=<limit>;w=<window s>',
};

export function apiRoutes(maxDays: number): ApiRoute[] {
  return [
    {
      method: 'POST',
      url: '/api/v1/queues/:queue/jobs',
      operationId: 'submitJob',
      summary: 'Add a job to a queue; answers at once with its id and where to read its status',
      auth: true,
      scopes: ['submit'],
      params: { type: 'object', required: ['queue'], properties: { queue: queueParam } },
      body: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          data: { description: 'any JSON value, at most HOPPER_JOB_MAX_DATA bytes serialised' },
          opts: {
            type: 'object',
            description:
              'job options as Queue.add takes them (priority, delay, attempts, backoff, jobId, dedup { key, ttl, mode }, group, timeout, removeOnComplete, removeOnFail, trace { traceparent, tracestate }); a traceparent header fills trace when the body sets none',
          },
        },
      },
      responses: {
        202: {
          description: 'accepted',
          headers: { Location: 'the status URL', ...rateLimitHeaders },
          schema: {
            type: 'object',
            required: ['jobId', 'statusUrl'],
            properties: { jobId: { type: 'string' }, statusUrl: { type: 'string' } },
          },
        },
        400: { description: 'invalid body or job options; `field` names the field', schema: error },
        401: unauthorized,
        403: forbidden,
        404: { description: 'unknown queue', schema: error },
        413: { description: 'body or job data over the limit', schema: error },
        429: {
          description: 'rate limit of this token reached',
          headers: { 'Retry-After': 'seconds', ...rateLimitHeaders },
          schema: { type: 'object' },
        },
        503: unavailable,
      },
    },
    {
      method: 'GET',
      url: '/api/v1/queues/:queue/jobs/:id',
      operationId: 'getJob',
      summary:
        'A job: state, progress, attempts, result or error, timestamps; only to the token that submitted it, or an admin',
      auth: true,
      scopes: ['submit'],
      params: { type: 'object', required: ['queue', 'id'], properties: { queue: queueParam, id: jobId } },
      responses: {
        200: {
          description: 'the job',
          schema: {
            type: 'object',
            required: ['id', 'queue', 'name', 'state', 'attempts', 'timestamps'],
            properties: {
              id: { type: 'string' },
              queue: { type: 'string' },
              name: { type: 'string' },
              state: {
                type: 'string',
                enum: ['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children'],
              },
              progress: { description: 'the last progress the handler reported, or null' },
              attempts: {
                type: 'object',
                properties: {
                  made: { type: 'integer' },
                  max: { type: 'integer' },
                  stalls: { type: 'integer' },
                },
              },
              result: { description: 'the return value, once completed' },
              error: {
                type: 'object',
                properties: { name: { type: 'string' }, message: { type: 'string' } },
              },
              timestamps: {
                type: 'object',
                description: 'ms since epoch',
                properties: {
                  added: { type: 'integer' },
                  processed: { type: 'integer' },
                  finished: { type: 'integer' },
                  delayUntil: { type: 'integer' },
                },
              },
            },
          },
        },
        401: unauthorized,
        403: forbidden,
        404: {
          description:
            'unknown queue, or no such job (never added, past its retention, or submitted by another token: ids cannot be probed)',
          schema: error,
        },
        503: unavailable,
      },
    },
    {
      method: 'GET',
      url: '/api/v1/metrics',
      operationId: 'getMetrics',
      summary:
        "Per-queue counts, execution and wait time percentiles and rate-limit counts over the last days; failed jobs' data and stacks only for admin tokens",
      auth: true,
      scopes: ['read'],
      querystring: {
        type: 'object',
        properties: {
          days: { type: 'integer', minimum: 1, maximum: maxDays, default: Math.min(7, maxDays) },
          queue: queueParam,
        },
      },
      responses: {
        200: {
          description: 'metrics per queue',
          schema: {
            type: 'object',
            properties: {
              days: { type: 'integer' },
              queues: { type: 'object', additionalProperties: queueMetricsSchema },
            },
          },
        },
        400: { description: 'bad days value', schema: error },
        401: unauthorized,
        403: forbidden,
        404: { description: 'unknown queue', schema: error },
        503: unavailable,
      },
    },
    {
      method: 'GET',
      url: '/metrics',
      operationId: 'prometheus',
      summary: 'Prometheus text exposition: counters, histograms (seconds), gauges, process metrics',
      auth: true,
      scopes: ['read', 'metrics'],
      responses: {
        200: {
          description: 'Prometheus text format 0.0.4',
          contentType: 'text/plain',
          schema: { type: 'string' },
        },
        401: unauthorized,
        403: forbidden,
        503: unavailable,
      },
    },
    {
      method: 'GET',
      url: '/api/v1/queues/:queue/jobs/:id/events',
      operationId: 'watchJob',
      summary:
        "A job's status as Server-Sent Events: the state at once, then one `job` event (the getJob body) per change, ending after completed or failed; same access as getJob. The same over WebSocket: /api/v1/ws (docs/pubsub-and-locks.md)",
      auth: true,
      scopes: ['submit'],
      params: { type: 'object', required: ['queue', 'id'], properties: { queue: queueParam, id: jobId } },
      responses: {
        200: {
          description: '`event: job`, `data:` the getJob body; `: heartbeat` comments every 15 s',
          contentType: 'text/event-stream',
          schema: { type: 'string' },
        },
        401: unauthorized,
        403: forbidden,
        404: { description: 'unknown queue, or no such job for this token', schema: error },
        503: unavailable,
      },
    },
    {
      method: 'GET',
      url: '/api/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      auth: true,
      scopes: ['submit', 'read'],
      responses: {
        200: { description: 'OpenAPI 3.1', schema: { type: 'object' } },
        401: unauthorized,
        403: forbidden,
      },
    },
    {
      method: 'GET',
      url: '/health',
      operationId: 'health',
      summary: 'Redis and database health; no token needed',
      auth: false,
      scopes: [],
      responses: {
        200: { description: 'healthy', schema: { type: 'object' } },
        503: { description: 'unhealthy, same body', schema: { type: 'object' } },
      },
    },
    {
      method: 'POST',
      url: '/api/v1/track',
      operationId: 'track',
      summary: 'Append tracking events to the event stream (see docs/streams.md)',
      auth: true,
      scopes: ['submit'],
      body: {
        type: 'object',
        required: ['session_id', 'events'],
        properties: {
          session_id: { type: 'string', format: 'uuid' },
          events: { type: 'array', items: { type: 'object' } },
        },
      },
      responses: {
        202: {
          description:
            "stored as one stream entry; one id per event, `<entryId>:<index>`, in body order. With TRACK_SPOOL_DIR, while Redis does not answer: held in the server's spool (`spooled: true`, ids `spool-<run>-<n>`), stored when Redis returns",
          schema: {
            type: 'object',
            required: ['accepted', 'ids'],
            properties: {
              accepted: { type: 'integer' },
              ids: {
                type: 'array',
                items: { type: 'string', pattern: '^(\\d+-\\d+:\\d+|spool-[A-Za-z0-9_-]+-[0-9a-z]+)$' },
              },
              spooled: { type: 'boolean' },
            },
          },
        },
        400: { description: 'invalid body; `field` names the field', schema: error },
        401: unauthorized,
        403: forbidden,
        413: { description: 'body over the limit', schema: error },
        415: { description: 'not application/json', schema: error },
        503: { description: 'event store unavailable; Retry-After', schema: error },
      },
    },
    ...pullRoutes(),
  ];
}

/** The route's definition, for registering it with Fastify. */
export function route(routes: ApiRoute[], method: ApiRoute['method'], url: string): ApiRoute {
  const r = routes.find((x) => x.method === method && x.url === url);
  if (!r) throw new Error(`no API definition for ${method} ${url}`);
  return r;
}

/** The part of a definition Fastify validates. */
export function fastifySchema(r: ApiRoute): Schema {
  const s: Schema = {};
  if (r.params) s.params = r.params;
  if (r.querystring) s.querystring = r.querystring;
  return s;
}
