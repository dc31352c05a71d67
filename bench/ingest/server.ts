/**
 * The server under test, in its own process so the load generator does not share its
 * event loop. `--mode hopper`: `startServer` as `hopper serve` runs it (stream + processor).
 * `--mode ingest`: the same with HOPPER_PROCESSOR=off, and `--mode processor`: only the
 * StreamProcessor (same stream, group and table), so the two run in separate processes.
 * `--mode floor`: a Fastify route that parses the body and answers 202 with nothing
 * stored, the ceiling any design on this HTTP stack can reach on the machine.
 * `--mode cluster`: `hopper serve` with HTTP_WORKERS HTTP processes (node:cluster) and
 * the processor in the primary; prints `{"port":n,"statsPort":m}`, /bench/rows on m.
 * `--mode before`: seed 004's old design, one synchronous INSERT per request before the
 * answer, same validation, same table layout. Prints `{"port":n}` once listening; GET
 * /bench/rows answers the row count, so the orchestrator can watch rows land.
 */

import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { serveCluster } from '../../src/server/cluster.js';
import { createServer, loadConfig, parseTrackBody } from '../../src/server/index.js';
import { streamKeys } from '../../src/stream/keys.js';
import { postgresSink } from '../../src/stream/postgres-sink.js';
import { StreamProcessor } from '../../src/stream/processor.js';

const arg = (name: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const mode = arg('mode') ?? 'hopper';
const table = arg('table') ?? 'bench_events';
const token = process.env.BENCH_TOKEN ?? '';
const logger = pino({ level: 'warn' }, pino.destination(2));

const config = {
  ...loadConfig({ ...process.env, HOPPER_API_TOKENS: token, PORT: '0', HOST: '127.0.0.1' }),
  stream: table,
  table,
};
const sink = postgresSink({
  databaseUrl: config.databaseUrl ?? '',
  dataDir: config.pgliteDir,
  table,
  poolSize: 10,
});
/** Events answered 202, counted by the server: autocannon leaves out requests still in flight when it stops. */
let accepted = 0;
/** CPU microseconds (user + system) this process has used, to charge per request. */
const cpuUs = () => {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
};
/** A process's CPU (user + system) from /proc, microseconds: a cluster worker's, read by its primary. */
function procCpuUs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): state is the 1st, utime the 12th, stime the 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}
const rows = async () => ({
  accepted,
  rows: Number((await sink.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sink.table}`))[0]!.n),
  cpuUs: cpuUs(),
});
/** Listens on a free port, tells the orchestrator which, and stops on SIGTERM. */
async function announce(app: FastifyInstance, stop: () => Promise<unknown>): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port })}\n`);
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
}
// onSend, not onResponse: a request whose client went away still ran, and its events were stored.
const countAccepted = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
  if (reply.statusCode === 202) accepted += (req.body as { events: unknown[] }).events.length;
  return payload;
};

if (mode === 'cluster') {
  // `hopper serve` with HTTP_WORKERS (cluster.ts): workers answer HTTP, the primary runs the
  // processor. Accepted events come from Redis (entries ever added x events per request), CPU from /proc.
  const events = Number(arg('events') ?? 1);
  if (cluster.isPrimary) {
    const probe = new Redis(config.redisUrl);
    const stats = Fastify();
    stats.get('/bench/rows', async () => {
      const info = (await probe.call('XINFO', 'STREAM', streamKeys('hopper', table).stream)) as unknown[];
      const added = Number(info[info.indexOf('entries-added') + 1]);
      const workers = Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!);
      return {
        ...(await rows()),
        accepted: added * events,
        cpuUs: cpuUs() + workers.reduce((a, p) => a + procCpuUs(p), 0),
      };
    });
    await stats.listen({ host: '127.0.0.1', port: 0 });
    await serveCluster(config, logger, {
      sink,
      onListening: (port) =>
        process.stdout.write(
          `${JSON.stringify({ port, statsPort: (stats.server.address() as { port: number }).port })}\n`,
        ),
    });
    await stats.close();
    probe.disconnect();
    process.exit(0);
  } else await serveCluster(config, logger);
} else if (mode === 'hopper' || mode === 'ingest') {
  const server = createServer({ ...config, processor: mode === 'hopper' }, { logger, sink });
  server.app.get('/bench/rows', rows);
  server.app.addHook('onSend', countAccepted);
  await server.ready();
  await server.listen();
  process.stdout.write(
    `${JSON.stringify({ port: (server.app.server.address() as { port: number }).port })}\n`,
  );
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else if (mode === 'floor') {
  const app = Fastify({ bodyLimit: config.bodyLimit });
  app.post('/api/v1/track', async (req, reply) => {
    accepted += (req.body as { events: unknown[] }).events.length;
    return reply.code(202).type('application/json; charset=utf-8').send('{"accepted":0,"ids":[]}');
  });
  app.get('/bench/rows', async () => ({ accepted, rows: accepted, cpuUs: cpuUs() }));
  await announce(app, () => app.close().then(() => sink.close()));
} else if (mode === 'processor') {
  await sink.ready();
  const processor = new StreamProcessor(config.stream, config.group, {
    connection: config.redisUrl,
    sink,
    consumers: config.workerCount,
    batchSize: config.batchSize,
    flushInterval: config.processInterval,
    logger,
  });
  await processor.ready();
  // Only /bench/rows: the orchestrator reads this process's CPU from it.
  const app = Fastify();
  app.get('/bench/rows', rows);
  await announce(app, () =>
    processor
      .close()
      .then(() => app.close())
      .then(() => sink.close()),
  );
} else {
  await sink.ready();
  const app = Fastify({ bodyLimit: config.bodyLimit });
  const prefix = `${Date.now()}`;
  let seq = 0;
  app.post('/api/v1/track', async (req, reply) => {
    const events = parseTrackBody(req.body, config.trackMaxEvents);
    // The old handler: the database write is awaited before the response.
    await sink(events.map((data) => ({ id: `${prefix}-${seq++}`, stream: table, data, deliveries: 1 })));
    // Counted here: Fastify skips onSend for a request whose client left during the INSERT.
    accepted += events.length;
    return reply.code(202).send({ accepted: events.length });
  });
  app.get('/bench/rows', rows);
  await announce(app, () => app.close().then(() => sink.close()));
}
