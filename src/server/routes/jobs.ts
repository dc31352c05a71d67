import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import type { JobInfo, RetentionOptions } from '../../queue/types.js';
import { ValidationError } from '../../util/errors.js';
import { type ApiRoute, fastifySchema, route } from '../api-schemas.js';
import { callerOf, isAdmin } from '../auth.js';
import type { JobQueues } from '../queues.js';
import { answering503, fromRedis, redisGate } from '../redis-gate.js';
import type { SubmitLimit } from '../submit-limit.js';

export interface JobsDeps {
  queues: JobQueues;
  /** Undefined when HOPPER_SUBMIT_LIMIT is 0. */
  limit: SubmitLimit | undefined;
  /** The server's probe connection: its status says whether Redis is reachable now. */
  probe: Redis;
  /** HOPPER_JOB_TTL: no job submitted over HTTP is kept longer after it finishes. */
  jobTtl: number;
}

type QueueParams = { queue: string };
type JobParams = { queue: string; id: string };

const unknownQueue = (reply: FastifyReply, name: string) =>
  reply.code(404).send({ error: `unknown queue ${JSON.stringify(name)}` });

export const statusUrl = (queue: string, id: string) =>
  `/api/v1/queues/${encodeURIComponent(queue)}/jobs/${encodeURIComponent(id)}`;

/**
 * The caller's W3C trace context (traceparent / tracestate headers) travels with the job as
 * `opts.trace`, unless the body sets one; Queue.add validates it (400 naming the field).
 */
function withTraceHeaders(body: Record<string, unknown>, headers: Record<string, unknown>): unknown {
  const { traceparent, tracestate } = headers;
  const opts = body.opts;
  if (typeof traceparent !== 'string') return opts;
  if (opts !== undefined && (opts === null || typeof opts !== 'object' || Array.isArray(opts))) return opts;
  if (opts && 'trace' in opts) return opts;
  const trace = typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
  return { ...(opts as object | undefined), trace };
}

/**
 * A client's retention option bounded by the server's TTL: `false` (keep forever) becomes
 * `{ age: ttl }`, a count gains the age, a longer age is cut. Values of the wrong type pass
 * unchanged, for the queue's validation to name them.
 */
export function boundRetention(v: unknown, ttl: number): unknown {
  if (v === false) return { age: ttl };
  if (typeof v === 'number') return { age: ttl, count: v };
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const r = v as Exclude<RetentionOptions, boolean | number>;
    return { ...r, age: typeof r.age === 'number' ? Math.min(r.age, ttl) : ttl };
  }
  return v;
}

/**
 * The options the queue gets: the client's, with retention bounded by the TTL and `owner`
 * set to the submitting token's name (a client cannot claim another's).
 */
function serverOptions(opts: unknown, owner: string | undefined, ttl: number): unknown {
  if (opts !== undefined && (opts === null || typeof opts !== 'object' || Array.isArray(opts))) return opts;
  const o: Record<string, unknown> = { ...(opts as object | undefined) };
  delete o.owner;
  if ('removeOnComplete' in o) o.removeOnComplete = boundRetention(o.removeOnComplete, ttl);
  if ('removeOnFail' in o) o.removeOnFail = boundRetention(o.removeOnFail, ttl);
  if (owner !== undefined) o.owner = owner;
  return Object.keys(o).length ? o : undefined;
}

/** POST a job (202 with its id and status URL) and GET its status. */
export function jobsRoutes(app: FastifyInstance, routes: ApiRoute[], deps: JobsDeps): void {
  const gate = redisGate(deps.probe);
  const submit = route(routes, 'POST', '/api/v1/queues/:queue/jobs');
  app.route<{ Params: QueueParams }>({
    method: submit.method,
    url: submit.url,
    schema: fastifySchema(submit),
    onRequest: deps.limit ? [gate, deps.limit.hook] : [gate],
    handler: answering503(async (req, reply) => {
      const queue = await deps.queues.get(req.params.queue);
      if (!queue) return unknownQueue(reply, req.params.queue);
      const body = req.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new ValidationError('body', 'must be a JSON object { name, data, opts }');
      const { name, data } = body as Record<string, unknown>;
      const opts = serverOptions(
        withTraceHeaders(body as Record<string, unknown>, req.headers),
        callerOf(req).name,
        deps.jobTtl,
      );
      let jobId: string;
      try {
        jobId = await fromRedis(queue.add(name as string, data, opts as never), 'add');
      } catch (err) {
        // The queue's own size check (it serialises the data once): oversize is a 413, not a 400.
        if (err instanceof ValidationError && err.field === 'data' && err.message.includes('over the limit'))
          return reply.code(413).send({ error: err.message, field: 'data' });
        throw err;
      }
      const url = statusUrl(queue.name, jobId);
      return reply.code(202).header('location', url).send({ jobId, statusUrl: url });
    }),
  });

  const status = route(routes, 'GET', '/api/v1/queues/:queue/jobs/:id');
  app.route<{ Params: JobParams }>({
    method: status.method,
    url: status.url,
    schema: fastifySchema(status),
    onRequest: [gate],
    handler: answering503(async (req, reply) => {
      const queue = await deps.queues.get(req.params.queue);
      if (!queue) return unknownQueue(reply, req.params.queue);
      const job = await fromRedis(queue.getJob(req.params.id), 'getJob');
      const caller = callerOf(req);
      // Another token's job answers exactly as a missing one: sequential ids cannot be probed.
      if (!job || !(isAdmin(caller) || (caller.name !== undefined && job.opts.owner === caller.name)))
        return reply.code(404).send({ error: `no job ${JSON.stringify(req.params.id)} in ${queue.name}` });
      return reply.send(jobStatus(queue.name, job));
    }),
  });
}

/** What the status route answers: no stack traces, no job data. */
export function jobStatus(queue: string, job: JobInfo) {
  return {
    id: job.id,
    queue,
    name: job.name,
    state: job.state,
    progress: job.progress ?? null,
    attempts: { made: job.attemptsMade, max: job.opts.attempts ?? 1, stalls: job.stalls },
    ...(job.state === 'completed' ? { result: job.returnValue ?? null } : {}),
    ...(job.error ? { error: { name: job.error.name, message: job.error.message } } : {}),
    timestamps: {
      added: job.timestamp,
      processed: job.processedOn,
      finished: job.finishedOn,
      delayUntil: job.delayUntil,
    },
  };
}
