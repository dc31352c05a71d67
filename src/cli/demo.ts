import { Command, InvalidArgumentError } from 'commander';
import type { Queue } from '../queue/queue.js';
import { type Job, Priority } from '../queue/types.js';
import type { Worker } from '../queue/worker/worker.js';
import { redactError } from '../redis/redact.js';
import { durabilityWarnings, readServerFacts } from '../redis/server-check.js';
import { deadline } from '../server/status.js';
import { within } from '../util/within.js';
import { auditHandler, randomAuditJob, type WalletAudit } from './demo-jobs.js';
import { Producer } from './demo-producer.js';
import { chooseDemoRedis, type DemoRedis } from './demo-redis.js';
import { type DemoRun, newDemoRun, removeRunKeys } from './demo-run.js';
import { StatusLine, type Tally, wrapForTerminal } from './demo-status.js';
import { StopSignal } from './demo-stop.js';
import { PGLITE_DIR, TrackingDemo } from './demo-tracking.js';
import { loadEngine } from './engine.js';
import { cliLogger } from './logger.js';
import { printable } from './printable.js';
import { connect, resolveTarget, type Target } from './target.js';

interface DemoOptions {
  duration?: number;
  rate: number;
}

const CONCURRENCY = 50;
const FAILURE_RATE = 0.01;
const CLOSE_TIMEOUT_MS = 5000;
const REMOVE_TIMEOUT_MS = 10_000;

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number greater than 0');
  return n;
}

const out = (text: string) => process.stdout.write(text);

/** The summary spells out what the status line's `5:645` means. */
function namedByPriority(byPriority: Map<number, number>): string {
  return Object.entries(Priority)
    .map(([event, priority]) => `${event} (${priority}) ${byPriority.get(priority) ?? 0}`)
    .join(', ');
}

async function printServer(target: Target, origin: string): Promise<void> {
  out(`Redis: ${target.label} (${origin})\n`);
  const client = await connect(target);
  try {
    const facts = await readServerFacts(client);
    const warnings = durabilityWarnings(facts);
    // INFO text comes from the server: escaped like any text read from Redis.
    const aof = facts.aofEnabled ? 'on' : 'off';
    out(`${printable(`Redis ${facts.version}, maxmemory-policy ${facts.maxmemoryPolicy}, AOF ${aof}`)}\n`);
    for (const warning of warnings) out(`${wrapForTerminal(`warning: ${printable(warning)}`, '  ')}\n`);
  } finally {
    client.disconnect();
  }
}

/** What the queue half of the demo counted, for the status line and the summary. */
interface QueueSide {
  queue: Queue<WalletAudit>;
  worker: Worker<WalletAudit>;
  producer: Producer;
  tally: Tally;
  workerErrors(): { count: number; last: string | undefined };
}

function startQueueSide(
  target: Target,
  run: DemoRun,
  rate: number,
  engine: Awaited<ReturnType<typeof loadEngine>>,
) {
  const logger = cliLogger();
  const queue = new engine.Queue<WalletAudit>(run.queue, { connection: target.url, logger });
  const worker = new engine.Worker<WalletAudit>(run.queue, auditHandler(FAILURE_RATE), {
    connection: target.url,
    concurrency: CONCURRENCY,
    logger,
  });
  const producer = new Producer(queue, rate, randomAuditJob);
  let workerErrors = 0;
  let lastWorkerError: string | undefined;
  const tally: Tally = {
    added: () => producer.added,
    completed: 0,
    completedByPriority: new Map(),
    errors: () => producer.errors + workerErrors,
  };
  // Counted on the worker's event, i.e. once Redis has recorded the completion.
  worker.on('completed', (job: Job<WalletAudit>) => {
    tally.completed++;
    const priority = job.opts.priority ?? 0;
    tally.completedByPriority.set(priority, (tally.completedByPriority.get(priority) ?? 0) + 1);
  });
  worker.on('error', (err: Error) => {
    workerErrors++;
    lastWorkerError = err.message;
  });
  const side: QueueSide = {
    queue,
    worker,
    producer,
    tally,
    workerErrors: () => ({ count: workerErrors, last: lastWorkerError }),
  };
  return side;
}

/**
 * Runs the demo until `stop`, then removes what this run wrote. Each startup step finishes
 * before a stop is looked at, and teardown closes exactly what was started, so a Ctrl-C at
 * any moment ends the same way: shut down, data removed, exit 0.
 */
async function run(redis: DemoRedis, demoRun: DemoRun, opts: DemoOptions, stop: StopSignal): Promise<void> {
  const target = resolveTarget(redis.url);
  await printServer(target, redis.origin);
  const engine = await loadEngine();
  if (stop.reason) {
    out(`Stopping (${stop.reason}): nothing was written yet\n`);
    return;
  }
  const side = startQueueSide(target, demoRun, opts.rate, engine);
  let tracking: TrackingDemo | undefined;
  let status: StatusLine | undefined;
  let startedAt: number | undefined;
  const problems: string[] = [];
  try {
    const rateNote = `${opts.rate} jobs/s, ${CONCURRENCY} concurrent, ${FAILURE_RATE * 100}% transient failures`;
    const until = opts.duration === undefined ? 'until Ctrl-C' : `for ${opts.duration} s`;
    out(`Running queue ${demoRun.queue} ${until}: ${rateNote}\n`);
    // The tracking pipeline (HTTP -> stream -> PostgreSQL) runs beside the queue. Started first and
    // awaited: PGlite's first start (initdb) blocks the event loop for seconds, which would stall the queue demo.
    const database = process.env.DATABASE_URL
      ? 'PostgreSQL (DATABASE_URL)'
      : `PGlite (${PGLITE_DIR.slice(2)})`;
    out(`Tracking: HTTP -> stream ${demoRun.stream} -> ${database} table ${demoRun.table}, starting...\n`);
    tracking = new TrackingDemo(target.url, cliLogger(), demoRun);
    await tracking.ready();
    if (stop.reason) return;

    const t = tracking;
    status = new StatusLine(
      () => side.queue.getCounts(),
      side.tally,
      process.stdout,
      () => t.status(),
    );
    startedAt = performance.now();
    stop.onStop = () => {}; // from here the status line ends and "Stopping (...)" says why
    side.producer.start();
    status.start();
    if (opts.duration !== undefined) stop.after(opts.duration);
    await stop.stopped;
  } finally {
    // The rates cover the run, not the shutdown (which takes longer while Redis is down).
    const ranFor = startedAt === undefined ? 0 : (performance.now() - startedAt) / 1000;
    // Teardown in reverse: nothing is added after the producer stops, nothing runs after the
    // worker closes, nothing is written to the stream after the server closes; then our keys go.
    status?.stop();
    out(
      `Stopping (${stop.reason ?? 'error'}): waiting up to ${CLOSE_TIMEOUT_MS / 1000} s for running jobs ` +
        '(Ctrl-C again quits at once)...\n',
    );
    await side.producer.stop();
    await side.worker.close({ timeout: CLOSE_TIMEOUT_MS });
    const trackingProblem = await tracking?.stop();
    if (trackingProblem) problems.push(trackingProblem);
    const removed = await removeQueueAndKeys(target, side.queue, demoRun).catch((err: Error) => {
      problems.push(`Redis keys: ${redactError(err, [target.options.password ?? '']).message}`);
      return undefined;
    });
    await within(side.queue.close(), 2000);

    if (startedAt !== undefined) {
      out(`${summary(side, tracking, ranFor, target).join('\n')}\n`);
    }
    if (removed !== undefined) {
      const table = tracking?.tableCreated ? `, table ${demoRun.table}` : '';
      out(`Removed this run's data: queue ${demoRun.queue}, stream ${demoRun.stream}${table}\n`);
    }
    for (const problem of problems) {
      process.stderr.write(`hopper: could not remove this run's ${problem}\n`);
      process.exitCode = 1;
    }
  }
}

/**
 * Queue.obliterate (registry entry and metrics included), then whatever else carries our tags.
 * Connects first: with Redis gone that fails in seconds with a clear reason, where the queue's
 * own client would retry for ever.
 */
async function removeQueueAndKeys(
  target: Target,
  queue: Queue<WalletAudit>,
  demoRun: DemoRun,
): Promise<true> {
  const client = await connect(target);
  try {
    await deadline(queue.obliterate({ force: true }), REMOVE_TIMEOUT_MS, 'deleting the queue');
    await deadline(removeRunKeys(client, demoRun), REMOVE_TIMEOUT_MS, 'deleting the stream');
    return true;
  } finally {
    client.disconnect();
  }
}

function summary(
  side: QueueSide,
  tracking: TrackingDemo | undefined,
  seconds: number,
  target: Target,
): string[] {
  const { producer, tally } = side;
  const perSecond = (n: number) => Math.round(n / seconds);
  const lines = [
    `Summary: ${producer.added} added, ${tally.completed} completed in ${seconds.toFixed(1)} s ` +
      `(${perSecond(producer.added)} added/s, ${perSecond(tally.completed)} completed/s)`,
    wrapForTerminal(`  completed by priority: ${namedByPriority(tally.completedByPriority)}`, '    '),
  ];
  if (tracking) lines.push(tracking.summary());
  const secrets = [target.options.password ?? ''];
  if (producer.errors > 0) {
    lines.push(
      `  add errors: ${producer.errors}, last: ${redactError(new Error(producer.lastError), secrets).message}`,
    );
  }
  const worker = side.workerErrors();
  if (worker.count > 0) {
    lines.push(
      `  worker errors: ${worker.count}, last: ${redactError(new Error(worker.last), secrets).message}`,
    );
  }
  return lines;
}

async function demo(opts: DemoOptions): Promise<void> {
  // Heard before anything starts: a Ctrl-C while Redis, PGlite or the server starts must
  // still end in a clean shutdown, not kill the process with its data left behind.
  const demoRun = newDemoRun();
  const stop = new StopSignal(() => {
    process.stderr.write(
      `\nhopper: forced exit: queue ${demoRun.queue}, stream ${demoRun.stream} and table ${demoRun.table} may be left behind\n`,
    );
    process.exit(130);
  });
  stop.onStop = (reason) =>
    out(`\n${reason}: stopping once the step under way has finished (press again to quit at once)\n`);
  let redis: DemoRedis | undefined;
  try {
    if (!stop.reason) redis = await chooseDemoRedis();
    if (redis && !stop.reason) await run(redis, demoRun, opts, stop);
    else out(`Stopping (${stop.reason}): nothing was started yet\n`);
  } finally {
    await redis?.stop();
    stop.dispose();
  }
  out(process.exitCode ? 'shut down, but some of its data is left (see above)\n' : 'shut down cleanly\n');
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'run a producer and a worker on a queue of its own, with a live status line; removes its data on exit',
    )
    .option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)', positiveNumber)
    .option('--rate <jobs/s>', 'jobs added per second', positiveNumber, 2000)
    .action(demo);
}
