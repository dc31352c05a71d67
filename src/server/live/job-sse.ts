import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type ApiRoute, fastifySchema, route } from '../api-schemas.js';
import { callerOf, isAdmin } from '../auth.js';
import type { JobQueues } from '../queues.js';
import { answering503, fromRedis, redisGate } from '../redis-gate.js';
import { jobStatus } from '../routes/jobs.js';
import type { JobWatch } from './job-watch.js';

const HEARTBEAT_MS = 15_000;

interface Params {
  queue: string;
  id: string;
}

/**
 * GET /api/v1/queues/:queue/jobs/:id/events: a job's status as Server-Sent Events. Listens
 * first, then sends the state Redis has, then the state after each of the job's events; ends
 * once it completed or failed. A client that reconnects (to any server) gets the current state
 * first, so it misses nothing. Open streams end when the server shuts down.
 */
export function jobEventsRoute(
  app: FastifyInstance,
  routes: ApiRoute[],
  deps: { queues: JobQueues; watch: JobWatch; probe: Redis },
): void {
  const def = route(routes, 'GET', '/api/v1/queues/:queue/jobs/:id/events');
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  app.route<{ Params: Params }>({
    method: def.method,
    url: def.url,
    schema: fastifySchema(def),
    onRequest: [redisGate(deps.probe)],
    handler: answering503(async (req, reply) => {
      const queue = await deps.queues.get(req.params.queue);
      if (!queue) return reply.code(404).send({ error: `no queue ${JSON.stringify(req.params.queue)}` });
      const caller = callerOf(req);
      const read = async () => {
        const job = await queue.getJob(req.params.id);
        return job && (isAdmin(caller) || (caller.name !== undefined && job.opts.owner === caller.name))
          ? jobStatus(queue.name, job)
          : null;
      };
      const first = await fromRedis(read(), 'getJob');
      if (!first)
        return reply.code(404).send({ error: `no job ${JSON.stringify(req.params.id)} in ${queue.name}` });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      });
      open.add(res);
      let n = 0;
      let stop: (() => void) | undefined;
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
      const end = () => {
        clearInterval(heartbeat);
        stop?.();
        open.delete(res);
        if (!res.writableEnded) res.end();
      };
      res.on('close', end);
      const send = (body: ReturnType<typeof jobStatus> | null) => {
        if (res.writableEnded) return;
        res.write(`id: ${++n}\nevent: job\ndata: ${JSON.stringify(body)}\n\n`);
        if (!body || body.state === 'completed' || body.state === 'failed') end();
      };
      stop = await deps.watch
        .watch(queue, req.params.id, () => {
          read().then(send, () => {});
        })
        .catch(() => undefined);
      if (res.writableEnded) return stop?.();
      // Read again after listening: a change between the first read and the watch is not missed.
      send((await read().catch(() => first)) ?? null);
    }),
  });
}
