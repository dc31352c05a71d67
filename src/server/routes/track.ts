import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { EventStream } from '../../stream/event-stream.js';
import { ValidationError } from '../../util/errors.js';
import { deadline } from '../status.js';
import { trackEventsJson } from '../track-schema.js';

/** Seconds a client should wait before retrying while Redis is unreachable. */
export const RETRY_AFTER_S = 2;
/**
 * An append that has not been answered in this time is reported as 503. It may still
 * land later (the client's retry then duplicates it, which at-least-once allows); what
 * must never happen is a 202 for an event that was not stored.
 */
const APPEND_TIMEOUT_MS = 2000;

export interface TrackDeps {
  stream: EventStream;
  probe: Redis;
  maxEvents: number;
}

/**
 * POST /api/v1/track: validate the whole body, append its events as one stream entry
 * (one XADD, one entry to read and acknowledge, however many events), 202 with one id
 * per event, `<entryId>:<index>`.
 */
export function trackRoute(app: FastifyInstance, deps: TrackDeps): void {
  app.post('/api/v1/track', async (req, reply) => {
    const json = trackEventsJson(req.body, deps.maxEvents);
    const spooled = deps.stream.spool !== undefined;
    // Fail fast while the connection is down instead of queueing behind reconnect attempts
    // (with a spool, the append goes to disk instead).
    if (!spooled && deps.probe.status !== 'ready') return unavailable(reply);
    let ids: string[];
    try {
      ids = await deadline(deps.stream.appendJson(json, { together: true }), APPEND_TIMEOUT_MS, 'append');
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      req.log.warn({ err: (err as Error).message }, 'track append failed: answering 503');
      return unavailable(reply);
    }
    // Built by hand: ids are `<ms>-<seq>:<index>` (spooled: `spool-<run>-<n>`, base64url), valid JSON as is.
    const held = spooled && ids[0]!.startsWith('spool-') ? ',"spooled":true' : '';
    return reply
      .code(202)
      .type('application/json; charset=utf-8')
      .send(`{"accepted":${ids.length},"ids":["${ids.join('","')}"]${held}}`);
  });
}

function unavailable(reply: import('fastify').FastifyReply) {
  return reply
    .code(503)
    .header('retry-after', String(RETRY_AFTER_S))
    .send({ error: 'event store unavailable, retry later' });
}
