/** The pull-worker routes' definitions (api-schemas.ts lists them with the others, for the OpenAPI document). */
import type { ApiRoute } from './api-schemas.js';

type Schema = Record<string, unknown>;
const error: Schema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, field: { type: 'string' } },
};
const queue: Schema = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^{}]+$' };
const lease: Schema = { type: 'string', description: 'the lease token a fetch returned', maxLength: 100 };
const leaseMs: Schema = {
  type: 'integer',
  minimum: 1000,
  maximum: 600000,
  description: 'lease length in ms (default 30000)',
};
const common = {
  400: { description: 'invalid body; `field` names the field', schema: error },
  401: { description: 'missing or wrong bearer token', schema: error },
  403: { description: 'the token lacks the work scope', schema: error },
  404: { description: 'unknown queue', schema: error },
  503: { description: 'Redis unreachable; retry after Retry-After seconds', schema: error },
};
const lapsed = {
  description:
    'the lease had lapsed (or never held this job): the outcome was not applied, the job may run elsewhere',
  schema: error,
};
const jobParams: Schema = {
  type: 'object',
  required: ['queue', 'id'],
  properties: { queue, id: { type: 'string', minLength: 1, maxLength: 256 } },
};

export function pullRoutes(): ApiRoute[] {
  return [
    {
      method: 'POST',
      url: '/api/v1/queues/:queue/fetch',
      operationId: 'fetchJobs',
      summary:
        'Take up to `count` jobs under one lease (pull workers: other languages, serverless functions)',
      auth: true,
      scopes: ['work'],
      params: { type: 'object', required: ['queue'], properties: { queue } },
      body: {
        type: 'object',
        properties: {
          count: { type: 'integer', minimum: 1, maximum: 100, description: 'default 1' },
          leaseMs,
        },
      },
      responses: {
        200: {
          description: 'the jobs (possibly none) and their lease; renew it by heartbeat within leaseMs',
          schema: {
            type: 'object',
            required: ['lease', 'leaseMs', 'jobs'],
            properties: {
              lease: { type: 'string', description: 'empty when no job was taken' },
              leaseMs: { type: 'integer' },
              jobs: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    data: {},
                    opts: { type: 'object' },
                    attemptsMade: { type: 'integer' },
                    timestamp: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
        ...common,
      },
    },
    {
      method: 'POST',
      url: '/api/v1/queues/:queue/leases/:lease/heartbeat',
      operationId: 'heartbeatLease',
      summary: "Renew a lease for the jobs still held; the lease's other jobs go back in line",
      auth: true,
      scopes: ['work'],
      params: { type: 'object', required: ['queue', 'lease'], properties: { queue, lease } },
      body: {
        type: 'object',
        required: ['jobs'],
        properties: { jobs: { type: 'array', items: { type: 'string' } }, leaseMs },
      },
      responses: { 200: { description: 'renewed', schema: { type: 'object' } }, 409: lapsed, ...common },
    },
    {
      method: 'POST',
      url: '/api/v1/queues/:queue/jobs/:id/complete',
      operationId: 'completeJob',
      summary: 'Complete a job held under a lease, with its result',
      auth: true,
      scopes: ['work'],
      params: jobParams,
      body: { type: 'object', required: ['lease'], properties: { lease, result: {} } },
      responses: { 200: { description: 'completed', schema: { type: 'object' } }, 409: lapsed, ...common },
    },
    {
      method: 'POST',
      url: '/api/v1/queues/:queue/jobs/:id/fail',
      operationId: 'failJob',
      summary: "Fail a job's attempt; retried per its options (attempts, backoff) unless unrecoverable",
      auth: true,
      scopes: ['work'],
      params: jobParams,
      body: {
        type: 'object',
        required: ['lease', 'error'],
        properties: {
          lease,
          error: {
            type: 'object',
            required: ['message'],
            properties: { message: { type: 'string' }, name: { type: 'string' } },
          },
          unrecoverable: { type: 'boolean' },
        },
      },
      responses: {
        200: {
          description: 'recorded',
          schema: { type: 'object', properties: { retrying: { type: 'boolean' } } },
        },
        409: lapsed,
        ...common,
      },
    },
  ];
}
