import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { PartitionedQueue } from '../../queue/partitions/queue.js';
import { LeaseLostError, PullWorkers } from '../../queue/pull/pull.js';
import { ValidationError } from '../../util/errors.js';
import { type ApiRoute, fastifySchema, route } from '../api-schemas.js';
import type { JobQueues } from '../queues.js';
import { answering503, fromRedis, redisGate } from '../redis-gate.js';

export interface PullDeps {
  /** Which queue names the server accepts (the same rule as for submitting). */
  queues: JobQueues;
  probe: Redis;
  redisUrl: string | undefined;
}

type Body = Record<string, unknown>;

const body = (b: unknown): Body => {
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new ValidationError('body', 'must be a JSON object');
  return b as Body;
};

/**
 * Pull workers over HTTP (docs/rest.md): fetch jobs under a lease, heartbeat, complete
 * and fail by lease token. A lapsed lease answers 409 and nothing is applied.
 */
export function pullRoutes(app: FastifyInstance, routes: ApiRoute[], deps: PullDeps): void {
  const gate = redisGate(deps.probe);
  const open = new Map<string, PullWorkers>();
  app.addHook('onClose', async () => {
    await Promise.all([...open.values()].map((p) => p.close()));
  });
  const workersOf = async (name: string, reply: FastifyReply): Promise<PullWorkers | undefined> => {
    let p = open.get(name);
    if (p) return p;
    const queue = await deps.queues.get(name);
    if (!queue) {
      reply.code(404).send({ error: `unknown queue ${JSON.stringify(name)}` });
      return undefined;
    }
    // Pull workers lease from one queue's keys; a partitioned queue would need one per partition.
    if (queue instanceof PartitionedQueue) {
      reply.code(409).send({
        error: `queue ${JSON.stringify(name)} is partitioned: pull workers over HTTP take from plain queues only`,
      });
      return undefined;
    }
    p = new PullWorkers(name, { connection: deps.redisUrl });
    open.set(name, p);
    return p;
  };
  const lost = (reply: FastifyReply, err: unknown) => {
    if (err instanceof LeaseLostError) return reply.code(409).send({ error: err.message });
    throw err;
  };

  const add = <P>(
    method: 'POST',
    url: string,
    handle: (p: PullWorkers, params: P, b: Body) => Promise<unknown>,
  ) => {
    const def = route(routes, method, url);
    app.route({
      method,
      url,
      schema: fastifySchema(def),
      onRequest: [gate],
      handler: answering503(async (req, reply) => {
        const params = req.params as P & { queue: string };
        const p = await workersOf(params.queue, reply);
        if (!p) return reply;
        try {
          return reply.send(await fromRedis(handle(p, params, body(req.body)), url));
        } catch (err) {
          return lost(reply, err);
        }
      }),
    });
  };

  add('POST', '/api/v1/queues/:queue/fetch', (p, _params, b) => p.fetch(b.count, b.leaseMs));
  add<{ lease: string }>('POST', '/api/v1/queues/:queue/leases/:lease/heartbeat', async (p, params, b) => {
    await p.heartbeat(params.lease, b.jobs, b.leaseMs);
    return { ok: true };
  });
  add<{ id: string }>('POST', '/api/v1/queues/:queue/jobs/:id/complete', async (p, params, b) => {
    await p.complete(b.lease, params.id, b.result);
    return { ok: true };
  });
  add<{ id: string }>('POST', '/api/v1/queues/:queue/jobs/:id/fail', async (p, params, b) => {
    if (b.unrecoverable !== undefined && typeof b.unrecoverable !== 'boolean')
      throw new ValidationError('unrecoverable', 'must be a boolean');
    return { retrying: await p.fail(b.lease, params.id, b.error, b.unrecoverable === true) };
  });
}
