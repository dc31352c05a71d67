import type { FastifyInstance, FastifyReply } from 'fastify';
import type { JobInfo } from '../../queue/types.js';
import { ValidationError } from '../../util/errors.js';
import { type ApiRoute, fastifySchema, route } from '../api-schemas.js';
import type { JobQueues } from '../queues.js';
import type { SubmitLimit } from '../submit-limit.js';

export interface JobsDeps {
  queues: JobQueues;
  /** Undefined when HOPPER_SUBMIT_LIMIT is 0. */
  limit: SubmitLimit | undefined;
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

/** POST a job (202 with its id and status URL) and GET its status. */
export function jobsRoutes(app: FastifyInstance, routes: ApiRoute[], deps: JobsDeps): void {
  const submit = route(routes, 'POST', '/api/v1/queues/:queue/jobs');
  app.route<{ Params: QueueParams }>({
    method: submit.method,
    url: submit.url,
    schema: fastifySchema(submit),
    onRequest: deps.limit ? [deps.limit.hook] : [],
    handler: async (req, reply) => {
      const queue = deps.queues.get(req.params.queue);
      if (!queue) return unknownQueue(reply, req.params.queue);
      const body = req.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new ValidationError('body', 'must be a JSON object { name, data, opts }');
      const { name, data } = body as Record<string, unknown>;
      const opts = withTraceHeaders(body as Record<string, unknown>, req.headers);
      let jobId: string;
      try {
        jobId = await queue.add(name as string, data, opts as never);
      } catch (err) {
        // The queue's own size check (it serialises the data once): oversize is a 413, not a 400.
        if (err instanceof ValidationError && err.field === 'data' && err.message.includes('over the limit'))
          return reply.code(413).send({ error: err.message, field: 'data' });
        throw err;
      }
      const url = statusUrl(queue.name, jobId);
      return reply.code(202).header('location', url).send({ jobId, statusUrl: url });
    },
  });

  const status = route(routes, 'GET', '/api/v1/queues/:queue/jobs/:id');
  app.route<{ Params: JobParams }>({
    method: status.method,
    url: status.url,
    schema: fastifySchema(status),
    handler: async (req, reply) => {
      const queue = deps.queues.get(req.params.queue);
      if (!queue) return unknownQueue(reply, req.params.queue);
      const job = await queue.getJob(req.params.id);
      if (!job)
        return reply.code(404).send({ error: `no job ${JSON.stringify(req.params.id)} in ${queue.name}` });
      return reply.send(jobStatus(queue.name, job));
    },
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
