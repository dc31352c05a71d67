/**
 * `npm run bench:ingest`: POST /api/v1/track under autocannon against a server it starts
 * (its own redis-server; PGlite in a temp dir, or DATABASE_URL), with 1-event and 20-event
 * bodies: events accepted per second, p50/p99 latency, rows per second landing in
 * PostgreSQL and whether every accepted event became a row. The same run measures seed
 * 004's "before" design (one synchronous INSERT per request) for the ratio. Rewrites
 * the `ingest` section of docs/benchmarks.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../child.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { startRedis } from '../redis.js';
import { describeRevision } from '../revision.js';

interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no types; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const envInt = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};
const DURATION_S = envInt('BENCH_DURATION', 10);
const WARMUP_S = 2;
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 50);
/** How long rows may take to land after the load stops before they count as lost. */
const DRAIN_TIMEOUT_MS = 120_000;

interface Case {
  mode: 'hopper' | 'before';
  events: number;
}
const CASES: Case[] = [
  { mode: 'hopper', events: 1 },
  { mode: 'hopper', events: 20 },
  { mode: 'before', events: 1 },
  { mode: 'before', events: 20 },
];

interface Figures {
  requestsPerSecond: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  rowsPerSecond: number;
  accepted: number;
  rows: number;
  failed: number;
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
  c: Case,
  env: NodeJS.ProcessEnv,
  table: string,
): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/ingest/server.ts', '--mode', c.mode, '--table', table],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

async function counts(base: string, token: string): Promise<{ accepted: number; rows: number }> {
  const r = await fetch(`${base}/bench/rows`, { headers: { authorization: `Bearer ${token}` } });
  return (await r.json()) as { accepted: number; rows: number };
}

async function measure(c: Case, redisUrl: string, pgliteDir: string): Promise<Figures> {
  const token = randomBytes(24).toString('hex');
  const table = `bench_${c.mode}_${c.events}_${Date.now()}`;
  const env = { ...process.env, REDIS_URL: redisUrl, HOPPER_PGLITE_DIR: pgliteDir, BENCH_TOKEN: token };
  const { child, port } = await startChild(c, env, table);
  const base = `http://127.0.0.1:${port}`;
  const load = (seconds: number) =>
    autocannon({
      url: `${base}/api/v1/track`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: seconds,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body(c.events),
    });
  try {
    const started = Date.now();
    const warm = await load(WARMUP_S);
    const result = await load(DURATION_S);
    // Requests autocannon left in flight when it stopped finish first (an INSERT committed but not yet counted would
    // otherwise look like an extra row); the server-side count includes them.
    await new Promise((r) => setTimeout(r, 1000));
    let { accepted, rows: landed } = await counts(base, token);
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (landed < accepted && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ({ accepted, rows: landed } = await counts(base, token));
    }
    const seconds = (Date.now() - started) / 1000;
    return {
      requestsPerSecond: result['2xx'] / result.duration,
      eventsPerSecond: (result['2xx'] * c.events) / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      rowsPerSecond: landed / seconds,
      accepted,
      rows: landed,
      failed: result.non2xx + result.errors + result.timeouts + warm.non2xx + warm.errors + warm.timeouts,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const redis = await startRedis({ aof: false });
  const dir = mkdtempSync(join(tmpdir(), 'hopper-bench-ingest-'));
  const pgliteDir = join(dir, 'pglite');
  const results = new Map<string, Figures>();
  try {
    for (const c of CASES) {
      await redis.flushAll();
      process.stderr.write(`measuring ${c.mode}, ${c.events}-event bodies...\n`);
      const f = await measure(c, redis.url, pgliteDir);
      results.set(`${c.mode}|${c.events}`, f);
      process.stderr.write(`  ${JSON.stringify(f)}\n`);
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const database = process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (embedded, temp dir)';
  const lines = [
    '## Ingestion: POST /api/v1/track',
    '',
    `Measured by \`npm run bench:ingest\`: autocannon (${CONNECTIONS} connections, ${DURATION_S} s after a ${WARMUP_S} s warm-up) ` +
      `in the orchestrator process against the server in a child process, with bearer auth; ${database}; ` +
      'rows/s counts from the start of the warm-up until the last accepted event landed, so it is what the database ' +
      'sustained over the run. "before" is seed 004\'s old design: the same validation, then one INSERT per request, ' +
      'awaited before the answer. One run per case, load generator on the same machine.',
    '',
    `Machine: ${describeMachine(redis.version)}. Code: ${describeRevision()}.`,
    '',
    '| design | events/request | requests/s | events accepted/s | p50 ms | p99 ms | rows/s into the database | accepted = rows |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const c of CASES) {
    const f = results.get(`${c.mode}|${c.events}`)!;
    lines.push(
      `| ${c.mode === 'hopper' ? 'Hopper (stream + batched writes)' : 'before (INSERT per request)'} | ${c.events} | ` +
        `${fmt(f.requestsPerSecond)} | ${fmt(f.eventsPerSecond)} | ${fmt(f.p50, 1)} | ${fmt(f.p99, 1)} | ` +
        `${fmt(f.rowsPerSecond)} | ${f.accepted === f.rows ? `yes (${fmt(f.rows)})` : `NO: ${fmt(f.accepted)} accepted, ${fmt(f.rows)} rows`}` +
        `${f.failed > 0 ? `; ${fmt(f.failed)} failed requests` : ''} |`,
    );
  }
  const ratio = (events: number) => {
    const h = results.get(`hopper|${events}`)!;
    const b = results.get(`before|${events}`)!;
    return `${fmt(h.eventsPerSecond / b.eventsPerSecond, 1)}x the events accepted/s, p99 ${fmt(h.p99, 1)} ms against ${fmt(b.p99, 1)} ms`;
  };
  lines.push(
    '',
    `Ratio, Hopper against "before": 1-event bodies ${ratio(1)}; 20-event bodies ${ratio(20)}.`,
    '',
    'Targets (issue 3, 2-core machine): at least 20,000 single-event requests/s with p99 at most 10 ms; at least ' +
      '100,000 events/s with 20-event bodies; at least 50,000 rows/s sustained; zero events lost.',
  );
  writeSection('ingest', lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
