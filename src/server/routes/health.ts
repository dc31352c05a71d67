import type { FastifyInstance } from 'fastify';
import { readStatus, type StatusDeps } from '../status.js';

/** GET /health: no auth; 200 when Redis and the database answer, else 503 with the same body. */
export function healthRoute(app: FastifyInstance, deps: StatusDeps): void {
  app.get('/health', async (_req, reply) => {
    const body = await readStatus(deps);
    return reply.code(body.status === 'healthy' ? 200 : 503).send(body);
  });
}
