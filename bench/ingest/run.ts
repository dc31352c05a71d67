/**
 * `npm run bench:ingest`: POST /api/v1/track under wrk (autocannon when wrk is absent)
 * against a server it starts (its own redis-server; PGlite in a temp dir, or
 * DATABASE_URL), with 1-event and 20-event bodies: events accepted per second, p50/p99
 * latency, server CPU per request, and whether every accepted event became a row. The
 * same run measures seed 004's "before" design (one synchronous INSERT per request) for
 * the ratio, and the rows/s PostgreSQL sustains draining a backlog (drain.ts). Rewrites
 * the `ingest` section of docs/benchmarks.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresSink } from '../../src/stream/postgres-sink.js';
import { REPO_ROOT } from '../child.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { type RedisServer, startRedis } from '../redis.js';
import { redisCpuSeconds } from '../redis-info.js';
import { describeRevision } from '../revision.js';
import { type DrainResult, measureDrain } from './drain.js';
import { type LoadGenerator, loadGenerator } from './load.js';

const envInt = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};
const DURATION_S = envInt('BENCH_DURATION', 10);
const WARMUP_S = 2;
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 50);
/** HTTP processes of the cluster case. */
const HTTP_WORKERS = envInt('BENCH_HTTP_WORKERS', 2);
const DRAIN_EVENTS = envInt('BENCH_DRAIN_EVENTS', 200_000);
/** How long rows may take to land after the load stops before they count as lost. */
const DRAIN_TIMEOUT_MS = 120_000;
const DATABASE_URL = process.env.DATABASE_URL ?? '';
/**
 * [consumers, batch size, events per entry] for the backlog drain: the defaults, more
 * consumers, bigger batches, each with one event per entry (appendMany, a 1-event
 * request); then the defaults with entries of 20 events (20-event requests).
 */
const DRAIN_SETTINGS = [
  [5, 100, 1],
  [10, 100, 1],
  [5, 1000, 1],
  [5, 100, 20],
] as const;

interface Case {
  /** split: HTTP with HOPPER_PROCESSOR=off, and the processor in a second process (needs a database server). */
  mode: 'floor' | 'hopper' | 'cluster' | 'split' | 'before';
  events: number;
}
/** Interleaved, so a change in what else runs on the machine hits both designs alike. */
const MODES: Case['mode'][] = DATABASE_URL
  ? ['floor', 'hopper', 'cluster', 'split', 'before']
  : ['floor', 'hopper', 'cluster', 'before'];
/**
 * BENCH_ONLY=hopper:1,floor:20,drain picks cases while iterating (printed, docs/benchmarks.md left
 * alone); unset, every case runs and the section is rewritten.
 */
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const CASES: Case[] = [1, 20]
  .flatMap((events) => MODES.map((mode) => ({ mode, events })))
  .filter((c) => !ONLY || ONLY.has(`${c.mode}:${c.events}`));
const LABEL: Record<Case['mode'], string> = {
  floor: 'floor: empty Fastify route (parses, answers 202, stores nothing)',
  hopper: 'Hopper (`hopper serve`: HTTP + processor in one process)',
  cluster: `Hopper, HTTP_WORKERS=${HTTP_WORKERS} (HTTP in ${HTTP_WORKERS} processes, processor in the primary)`,
  split: 'Hopper, processor in a second process',
  before: 'before (INSERT per request)',
};
const ROUNDS = envInt('BENCH_ROUNDS', 1);

interface Figures {
  requestsPerSecond: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  rowsPerSecond: number;
  accepted: number;
  rows: number;
  failed: number;
  /** Server process CPU (user + system) per request, from the warm-up until every accepted event landed. */
  serverCpuUs: number;
  /** redis-server CPU per request over the same span. */
  redisCpuUs: number;
}

function body(events: number): string {
  return JSON.stringify({
    session_id: '123e4567-e89b-12d3-a456-426614174000',
    events: Array.from({ length: events }, (_, i) => ({
      timestamp: '2025-01-19T10:00:00Z',
      event_type: 'click',
      page_url: `http://example.com/p/${i}`,
      target_element: 'button',
    })),
  });
}

function startChild(
  mode: string,
  env: NodeJS.ProcessEnv,
  table: string,
  events: number,
): Promise<{ child: ChildProcess; port: number; statsPort: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/ingest/server.ts',
        '--mode',
        mode,
        '--table',
        table,
        '--events',
        String(events),
      ],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /\{"port":(\d+)(?:,"statsPort":(\d+))?\}/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), statsPort: Number(m[2] ?? m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

interface ServerCounts {
  accepted: number;
  rows: number;
  cpuUs: number;
}

async function counts(base: string, token: string): Promise<ServerCounts> {
  const r = await fetch(`${base}/bench/rows`, { headers: { authorization: `Bearer ${token}` } });
  return (await r.json()) as ServerCounts;
}

async function measure(c: Case, gen: LoadGenerator, redis: RedisServer, pgliteDir: string): Promise<Figures> {
  const token = randomBytes(24).toString('hex');
  const table = `bench_${c.mode}_${c.events}_${Date.now()}`;
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    HOPPER_PGLITE_DIR: pgliteDir,
    BENCH_TOKEN: token,
    HTTP_WORKERS: String(HTTP_WORKERS),
  };
  const helper = c.mode === 'split' ? await startChild('processor', env, table, c.events) : undefined;
  const { child, port, statsPort } = await startChild(
    c.mode === 'split' ? 'ingest' : c.mode,
    env,
    table,
    c.events,
  );
  const url = `http://127.0.0.1:${port}/api/v1/track`;
  const base = `http://127.0.0.1:${statsPort}`;
  /** Both processes' CPU when the processor runs apart. */
  const cpuUs = async (n: ServerCounts) =>
    n.cpuUs + (helper ? (await counts(`http://127.0.0.1:${helper.port}`, token)).cpuUs : 0);
  const load = (seconds: number) =>
    gen.run({ url, token, body: body(c.events), connections: CONNECTIONS, seconds });
  try {
    const cpuBefore = await cpuUs(await counts(base, token));
    const redisBefore = await redisCpuSeconds(redis.admin);
    const started = Date.now();
    const warm = await load(WARMUP_S);
    const result = await load(DURATION_S);
    // Requests the load generator left in flight when it stopped finish first (an INSERT committed but not yet
    // counted would otherwise look like an extra row); the server-side count includes them.
    await new Promise((r) => setTimeout(r, 1000));
    let now = await counts(base, token);
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (now.rows < now.accepted && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = await counts(base, token);
    }
    const seconds = (Date.now() - started) / 1000;
    const requests = now.accepted / c.events;
    return {
      requestsPerSecond: result.ok / result.seconds,
      eventsPerSecond: (result.ok * c.events) / result.seconds,
      p50: result.p50,
      p99: result.p99,
      rowsPerSecond: now.rows / seconds,
      accepted: now.accepted,
      rows: now.rows,
      failed: result.failed + warm.failed,
      serverCpuUs: ((await cpuUs(now)) - cpuBefore) / requests,
      redisCpuUs: (((await redisCpuSeconds(redis.admin)) - redisBefore) * 1e6) / requests,
    };
  } finally {
    for (const p of [child, helper?.child]) {
      if (!p) continue;
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    if (DATABASE_URL) {
      const admin = postgresSink({ databaseUrl: DATABASE_URL, table });
      await admin.query(`DROP TABLE IF EXISTS ${admin.table}`);
      await admin.close();
    }
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const median = (xs: Figures[]) =>
  [...xs].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const gen = await loadGenerator();
  process.stderr.write(`load generator: ${gen.name}\n`);
  const redis = await startRedis({ aof: false });
  const dir = mkdtempSync(join(tmpdir(), 'hopper-bench-ingest-'));
  const pgliteDir = join(dir, 'pglite');
  const runs = new Map<string, Figures[]>();
  const drains: { consumers: number; batchSize: number; eventsPerEntry: number; result: DrainResult }[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CASES) {
        await redis.flushAll();
        process.stderr.write(`round ${round + 1}/${ROUNDS}: ${c.mode}, ${c.events}-event bodies...\n`);
        const f = await measure(c, gen, redis, pgliteDir);
        const key = `${c.mode}|${c.events}`;
        runs.set(key, [...(runs.get(key) ?? []), f]);
        process.stderr.write(`  ${JSON.stringify(f)}\n`);
      }
    }
    for (const [consumers, batchSize, eventsPerEntry] of ONLY && !ONLY.has('drain') ? [] : DRAIN_SETTINGS) {
      await redis.flushAll();
      process.stderr.write(
        `draining ${DRAIN_EVENTS} events, ${consumers} consumers, batches of ${batchSize}, ${eventsPerEntry} per entry...\n`,
      );
      const result = await measureDrain({
        redisUrl: redis.url,
        databaseUrl: DATABASE_URL,
        pgliteDir,
        events: DRAIN_EVENTS,
        consumers,
        batchSize,
        eventsPerEntry,
      });
      drains.push({ consumers, batchSize, eventsPerEntry, result });
      process.stderr.write(`  ${JSON.stringify(result)}\n`);
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const results = new Map([...runs].map(([k, v]) => [k, median(v)]));
  if (ONLY) {
    // A partial run: the figures went to stderr above; the docs table needs every case.
    for (const [k, f] of results) process.stdout.write(`${k}: ${JSON.stringify(f)}\n`);
    for (const d of drains) process.stdout.write(`drain: ${JSON.stringify(d)}\n`);
    return;
  }

  const database = DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (embedded, temp dir)';
  const lines = [
    '## Ingestion: POST /api/v1/track',
    '',
    `Measured by \`npm run bench:ingest\`: ${gen.name}, ${CONNECTIONS} connections (closed loop: each has one ` +
      `request in flight, so the p99 is taken at full load), ${DURATION_S} s after a ${WARMUP_S} s warm-up, against ` +
      "the server in a child process, with bearer auth; each request's events go into one stream entry; " +
      `${database}; ${ROUNDS === 1 ? 'one run' : `median of ${ROUNDS} runs`} per case, cases interleaved, load ` +
      'generator on the same machine. "Hopper" is `createServer` as `hopper serve` runs it by default (HTTP and ' +
      `processor in one Node process); HTTP_WORKERS=${HTTP_WORKERS} is \`hopper serve\` with that setting ` +
      '(cluster.ts: HTTP workers, the processor in the primary). "before" is seed 004\'s old design: the same ' +
      'validation, then one INSERT per request, awaited before the answer. rows/s counts from the start of the ' +
      'warm-up until the last accepted event landed. CPU per request: the server processes (HTTP, append and, for ' +
      'Hopper, the processor writing the rows; every worker for HTTP_WORKERS) and redis-server, over the same span.',
    '',
    `Machine: ${describeMachine(redis.version)}. Code: ${describeRevision()}. Load average (1 min) at the start ` +
      `${fmt(loadBefore, 1)}, at the end ${fmt(loadavg()[0]!, 1)}: other work on the machine shares its 2 cores, so ` +
      'compare rows of the same run.',
    '',
    '| design | events/request | requests/s | events accepted/s | p50 ms | p99 ms | rows/s into the database | server CPU us/request | Redis CPU us/request | accepted = rows |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of CASES) {
    const f = results.get(`${c.mode}|${c.events}`)!;
    const stores = c.mode !== 'floor';
    const landed =
      f.accepted === f.rows ? `yes (${fmt(f.rows)})` : `NO: ${fmt(f.accepted)} accepted, ${fmt(f.rows)} rows`;
    lines.push(
      `| ${LABEL[c.mode]} | ${c.events} | ` +
        `${fmt(f.requestsPerSecond)} | ${fmt(f.eventsPerSecond)} | ${fmt(f.p50, 1)} | ${fmt(f.p99, 1)} | ` +
        `${stores ? fmt(f.rowsPerSecond) : '-'} | ${fmt(f.serverCpuUs)} | ${fmt(f.redisCpuUs)} | ` +
        `${stores ? landed : '-'}${f.failed > 0 ? `; ${fmt(f.failed)} failed requests` : ''} |`,
    );
  }
  const ratio = (events: number, mode: Case['mode']) => {
    const h = results.get(`${mode}|${events}`)!;
    const b = results.get(`before|${events}`)!;
    return (
      `${fmt(h.eventsPerSecond / b.eventsPerSecond, 1)}x the events accepted/s, p99 ${fmt(h.p99, 1)} ms against ` +
      `${fmt(b.p99, 1)} ms, server CPU ${fmt(h.serverCpuUs)} us per request against ${fmt(b.serverCpuUs)} us`
    );
  };
  const ofFloor = (events: number) =>
    `${fmt((100 * results.get(`hopper|${events}`)!.requestsPerSecond) / results.get(`floor|${events}`)!.requestsPerSecond)}%`;
  lines.push(
    '',
    ...MODES.filter((m) => m === 'hopper' || m === 'cluster' || m === 'split').map(
      (m) =>
        `Ratio, ${LABEL[m]} against "before": 1-event bodies ${ratio(1, m)}; 20-event bodies ${ratio(20, m)}.`,
    ),
    '',
    `\`hopper serve\` answers ${ofFloor(1)} of the floor's requests/s with 1-event bodies and ${ofFloor(20)} with ` +
      '20-event bodies: the floor is what this HTTP stack does on this machine, load generator included, before ' +
      'anything is stored.',
    '',
    `Sustained rows/s into ${database}: a backlog of ${fmt(DRAIN_EVENTS)} tracking events in the stream, then one ` +
      'StreamProcessor writes it (QUEUE_WORKER_COUNT consumers, QUEUE_BATCH_SIZE per batch; defaults 5 and 100); ' +
      'no HTTP load meanwhile.',
    '',
    '| consumers | batch size | events per entry | rows/s | processor CPU us/row | time in the sink | mean INSERT ms | rows = events |',
    '|---|---|---|---|---|---|---|---|',
    ...drains.map(
      ({ consumers, batchSize, eventsPerEntry, result: d }) =>
        `| ${consumers} | ${batchSize} | ${eventsPerEntry} | ${fmt(d.rowsPerSecond)} | ${fmt(d.cpuUsPerRow, 1)} | ` +
        `${fmt(100 * d.sinkShare)}% | ${fmt(d.sinkMs, 1)} | ` +
        `${d.rows === DRAIN_EVENTS ? 'yes' : `NO: ${fmt(d.rows)}`} |`,
    ),
    '',
    'Targets (issue 3, 2-core machine): at least 20,000 single-event requests/s with p99 at most 10 ms; at least ' +
      '100,000 events/s with 20-event bodies; at least 50,000 rows/s sustained; zero events lost.',
  );
  writeSection('ingest', lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
