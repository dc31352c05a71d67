import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { registryKey } from '../queue/keys.js';
import { logicalName } from '../queue/partitions/layout.js';
import { PartitionedQueue } from '../queue/partitions/queue.js';
import { partitionKeys, readPartitionCounts } from '../queue/partitions/registry.js';
import type { JobState } from '../queue/types.js';
import { createClient } from '../redis/connection.js';
import { streamKeys } from '../stream/keys.js';
import { redriveDeadLetters } from '../stream/redrive.js';
import { ValidationError } from '../util/errors.js';
import { type ActionBody, runAction } from './actions.js';
import { readChart } from './data/charts.js';
import { readFlow } from './data/flow.js';
import { readGroups } from './data/groups.js';
import { partKeys } from './data/parts.js';
import { detail, row } from './data/present.js';
import { readSchedules } from './data/schedules.js';
import { searchJobs } from './data/search.js';
import type { StreamsReader } from './data/streams.js';
import { readWorkers } from './data/workers.js';
import type { LiveHub, SharedReads } from './hub.js';
import type { ConsoleQueues } from './queues.js';
import { COOKIE, type Session, type Sessions } from './session.js';

export interface RouteDeps {
  client: Redis;
  connection: string;
  prefix: string;
  queues: ConsoleQueues;
  reads: SharedReads;
  hub: LiveHub;
  streams: StreamsReader;
  sessions: Sessions;
  auth: boolean;
  secureCookie: boolean | 'auto';
}

const STATES: JobState[] = ['waiting', 'delayed', 'active', 'waiting-children', 'completed', 'failed'];
const PAGE_SIZES = [10, 25, 50, 100];
/** Deepest first row a list page may start at. */
const MAX_START = 1_000_000;

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>;
const sessionOf = (req: FastifyRequest) => req.consoleSession as Session;
const isAdmin = (req: FastifyRequest) => sessionOf(req).role === 'admin';

function intParam(field: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > max)
    throw new ValidationError(field, `must be an integer from 0 to ${max}`);
  return n;
}

export function consoleRoutes(app: FastifyInstance, d: RouteDeps): void {
  const interval = d.hub.intervalMs;
  /**
   * The registered names and the partition counts of partitioned queues, read together
   * (names first: a partitioned queue records its count before it registers its name, so
   * a name seen here comes with its count) and shared like every read.
   */
  const registry = () =>
    d.reads.get('registry', interval, async () => {
      const names = new Set(await d.client.smembers(registryKey(d.prefix)));
      return { names, partitions: await readPartitionCounts(d.client, d.prefix) };
    });
  /** Only queues some producer or worker registered: a typo must not create or act on an empty queue. */
  const known = async (name: string) => {
    let r = await registry();
    // A queue registered since the shared read: look again before answering 404.
    if (!r.names.has(name)) {
      d.reads.invalidate('registry');
      r = await registry();
    }
    if (!r.names.has(name))
      throw Object.assign(new Error(`no queue named ${JSON.stringify(name.slice(0, 100))}`), {
        statusCode: 404,
      });
    return d.queues.get(name, r.partitions.get(name));
  };

  app.post('/api/login', { bodyLimit: 4096 }, async (req, reply) => {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 1024)
      throw new ValidationError('token', 'must be the API token, as a string');
    if (!d.auth) return { role: 'admin', name: 'anonymous' };
    const s = d.sessions.login(token);
    if (s === 'unknown') return reply.code(401).send({ error: 'unknown token' });
    if (s === 'no-scope')
      return reply.code(403).send({ error: 'this token has neither the read nor the admin scope' });
    setCookie(req, reply, d, d.sessions.seal(s), Math.floor(d.sessions.ttlMs / 1000));
    return { role: s.role, name: s.name, csrf: d.sessions.csrf(s), intervalMs: interval };
  });

  app.post('/api/logout', async (req, reply) => {
    setCookie(req, reply, d, '', 0);
    return { ok: true };
  });

  app.get('/api/session', async (req) => {
    const s = sessionOf(req);
    return { role: s.role, name: s.name, csrf: d.sessions.csrf(s), auth: d.auth, intervalMs: interval };
  });

  app.get('/api/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no', // nginx: pass events through at once
      'content-security-policy': "default-src 'none'",
    });
    res.write(`retry: ${Math.max(1000, interval)}\n\n`);
    d.hub.add(res);
    req.raw.socket.setTimeout(0);
  });

  const JSON_TYPE = 'application/json; charset=utf-8';
  app.get('/api/overview', async (_req, reply) => reply.type(JSON_TYPE).send(await d.hub.snapshotJson()));

  app.get('/api/queues/:queue/jobs', async (req: Req, reply) => {
    const { queue } = req.params;
    const state = (req.query.state ?? 'waiting') as JobState;
    if (!STATES.includes(state)) throw new ValidationError('state', `must be one of ${STATES.join(', ')}`);
    const size = intParam('size', req.query.size, 25, 100);
    if (!PAGE_SIZES.includes(size))
      throw new ValidationError('size', `must be one of ${PAGE_SIZES.join(', ')}`);
    const page = intParam('page', req.query.page, 0, MAX_START / size);
    const newest = req.query.order === 'newest';
    const q = await known(queue!);
    const admin = isAdmin(req);
    const key = `q:${queue}:jobs:${state}:${page}:${size}:${newest}:${admin}`;
    const text = await d.reads.json(key, interval, async () => {
      const counts = await q.getCounts();
      const total =
        state === 'active'
          ? counts.active + counts.reserved
          : state === 'waiting-children'
            ? counts.waitingChildren
            : counts[state];
      let start = page * size;
      let end = start + size - 1;
      // Waiting and delayed jobs are read in run order; the newest are at its far end.
      const reverse = newest && (state === 'waiting' || state === 'delayed');
      if (reverse) {
        end = total - 1 - page * size;
        start = Math.max(0, end - size + 1);
      }
      const jobs = end < 0 ? [] : await q.getJobs(state, start, end);
      if (reverse) jobs.reverse();
      return { jobs: jobs.map((j) => row(j, admin)), total, page, size, counts };
    });
    return reply.type(JSON_TYPE).send(text);
  });

  app.get('/api/queues/:queue/jobs/:id', async (req: Req, reply) => {
    const q = await known(req.params.queue!);
    const admin = isAdmin(req);
    const shown = await d.reads.get(`q:${q.name}:job:${req.params.id}:${admin}`, interval, async () => {
      const id = req.params.id!;
      const counts = (await registry()).partitions;
      // Flow links live in the partition holding the job; they name partitions, shown by their queue's name.
      const parted = q as unknown;
      const home = parted instanceof PartitionedQueue ? await parted.partitionOf(id) : q;
      const [job, flow] = await Promise.all([
        q.getJob(id),
        readFlow(d.client, home.keys, id, (name) => logicalName(d.prefix, name, counts)),
      ]);
      if (!job) return null;
      // A flow child: its parent's state (one get-job call on the parent's queue).
      if (flow?.parent) {
        const parent = await Promise.resolve()
          .then(() =>
            d.queues.get(flow.parent!.queue, counts.get(flow.parent!.queue)).getJob(flow.parent!.id),
          )
          .catch(() => undefined); // a queue name Hopper would refuse: state left unknown
        if (parent !== undefined) flow.parent.state = parent?.state ?? 'removed';
      }
      return { ...detail(job, admin), flow };
    });
    if (!shown) return reply.code(404).send({ error: 'no such job (removed, or its retention ended)' });
    return shown;
  });

  // The whole value, for "show all": plain text the page puts in a text box, never parsed there.
  app.get('/api/queues/:queue/jobs/:id/full', async (req: Req, reply) => {
    if (!isAdmin(req)) return reply.code(403).send({ error: 'job data needs the admin scope' });
    const q = await known(req.params.queue!);
    const job = await q.getJob(req.params.id!);
    if (!job) return reply.code(404).send({ error: 'no such job' });
    const value = req.query.field === 'returnValue' ? job.returnValue : job.data;
    return reply.type('text/plain; charset=utf-8').send(JSON.stringify(value, null, 2) ?? 'undefined');
  });

  // POST: the text searched for stays out of URLs and access logs.
  app.post('/api/queues/:queue/search', { bodyLimit: 4096 }, async (req: Req, reply) => {
    const q = await known(req.params.queue!);
    const b = (req.body ?? {}) as { by?: unknown; text?: unknown; cursor?: unknown };
    const admin = isAdmin(req);
    if (b.by === 'data' && !admin) throw new ValidationError('by', 'searching data needs the admin scope');
    // Viewers running the same search step within an interval share one scan.
    const key = `q:${q.name}:search:${admin}:${String(b.by)}:${String(b.cursor)}:${String(b.text)}`;
    const text = await d.reads.json(key, interval, async () => {
      const r = await searchJobs(d.client, partKeys(q), b.by, b.text, b.cursor);
      const jobs = (await Promise.all(r.ids.map((id) => q.getJob(id)))).filter((j) => j !== null);
      return { ...r, ids: undefined, jobs: jobs.map((j) => row(j, admin)) };
    });
    return reply.type(JSON_TYPE).send(text);
  });

  app.get('/api/queues/:queue/groups', async (req: Req) => {
    const q = await known(req.params.queue!);
    const cursor = req.query.cursor;
    return d.reads.get(`q:${q.name}:groups:${cursor ?? 0}`, interval, () =>
      readGroups(d.client, partKeys(q), cursor),
    );
  });

  app.get('/api/queues/:queue/schedules', async (req: Req) => {
    const q = await known(req.params.queue!);
    // Schedules live in partition 0 of a partitioned queue (q.keys is partition 0's): all of them.
    return d.reads.get(`q:${q.name}:schedules`, interval, () => readSchedules(d.client, q.keys));
  });

  app.get('/api/queues/:queue/workers', async (req: Req) => {
    const q = await known(req.params.queue!);
    return d.reads.get(`q:${q.name}:workers`, interval, async () => ({
      workers: await readWorkers(d.client, [{ name: q.name, parts: partKeys(q) }]),
    }));
  });

  app.get('/api/queues/:queue/chart', async (req: Req) => {
    const q = await known(req.params.queue!);
    const range = req.query.range ?? 'hour';
    // Past points do not change: a day or week chart is read at most once a minute.
    const ttl = range === 'hour' ? interval : 60_000;
    return d.reads.get(`q:${q.name}:chart:${range}`, ttl, async () => ({
      points: await readChart(
        d.client,
        partKeys(q).map((k) => k.tag),
        range,
      ),
    }));
  });

  app.get('/api/workers', async () =>
    d.reads.get('workers', interval, async () => {
      const { names, partitions } = await registry();
      const sources = [...names]
        .sort()
        .slice(0, 500)
        .map((name) => ({ name, parts: partitionKeys(d.prefix, name, partitions) }));
      return { workers: await readWorkers(d.client, sources) };
    }),
  );

  app.get('/api/streams', () =>
    d.reads.get('streams', interval, async () => ({ streams: await d.streams.list() })),
  );

  app.get('/api/streams/:stream/dead', async (req: Req) => {
    const admin = isAdmin(req);
    return d.reads.get(`s:${req.params.stream}:dead:${admin}`, interval, async () => ({
      dead: await d.streams.deadLetters(req.params.stream!, 50, admin),
    }));
  });

  app.post('/api/streams/:stream/redrive', { bodyLimit: 4096 }, async (req: Req) => {
    const group = (req.body as { group?: unknown } | undefined)?.group;
    if (group !== undefined && typeof group !== 'string')
      throw new ValidationError('group', 'must be a string');
    // WATCH needs a connection of its own.
    const client = createClient(d.connection, 'producer');
    try {
      const moved = await redriveDeadLetters(client, streamKeys(d.prefix, req.params.stream!), { group });
      d.reads.invalidate('s');
      d.reads.invalidate('streams');
      return { done: moved };
    } finally {
      client.disconnect();
    }
  });

  app.post('/api/queues/:queue/actions/:action', { bodyLimit: 1024 * 1024 }, async (req: Req) => {
    const q = await known(req.params.queue!);
    const result = await runAction(q, req.params.action!, (req.body ?? {}) as ActionBody);
    d.reads.invalidate(`q:${q.name}:`);
    d.reads.invalidate('overview');
    req.log.info({ queue: q.name, action: req.params.action, by: sessionOf(req).name }, 'console action');
    return result;
  });
}

function setCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  d: RouteDeps,
  value: string,
  maxAge: number,
): void {
  const https =
    d.secureCookie === true ||
    (d.secureCookie === 'auto' && (req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https'));
  // No Path: the browser scopes the cookie to this API's folder as it sees it, behind any proxy sub-path.
  reply.header(
    'set-cookie',
    `${COOKIE}=${value}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${https ? '; Secure' : ''}`,
  );
}
