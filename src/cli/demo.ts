import { Command, InvalidArgumentError } from 'commander';
import { type Job, Priority } from '../queue/types.js';
import { redactError } from '../redis/redact.js';
import { durabilityWarnings, readServerFacts } from '../redis/server-check.js';
import { auditHandler, randomAuditJob, type WalletAudit } from './demo-jobs.js';
import { Producer } from './demo-producer.js';
import { chooseDemoRedis, type DemoRedis } from './demo-redis.js';
import { formatCounts, StatusLine, type Tally } from './demo-status.js';
import { TrackingDemo } from './demo-tracking.js';
import { loadEngine } from './engine.js';
import { cliLogger } from './logger.js';
import { connect, resolveTarget, type Target } from './target.js';

interface DemoOptions {
  duration?: number;
  rate: number;
}

const QUEUE = 'wallet-audit';
const CONCURRENCY = 50;
const FAILURE_RATE = 0.01;
const CLOSE_TIMEOUT_MS = 5000;

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number greater than 0');
  return n;
}

/** Resolves when the run should end: Ctrl-C, SIGTERM, or the end of `--duration`. */
function untilStopped(durationSeconds: number | undefined): Promise<string> {
  return new Promise((resolve) => {
    const done = (reason: string) => {
      clearTimeout(timer);
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      resolve(reason);
    };
    const onSigint = () => done('Ctrl-C');
    const onSigterm = () => done('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    const timer =
      durationSeconds === undefined
        ? undefined
        : setTimeout(() => done(`${durationSeconds} s elapsed`), durationSeconds * 1000);
  });
}

/** A second Ctrl-C while shutting down means "now": skip the graceful wait. */
function forceExitOnSecondSignal(): void {
  const force = () => {
    process.stderr.write('\nhopper: forced exit before jobs were handed back; their leases will lapse\n');
    process.exit(130);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
}

/** The summary spells out what the status line's `5:645` means. */
function namedByPriority(byPriority: Map<number, number>): string {
  return Object.entries(Priority)
    .map(([event, priority]) => `${event} (${priority}) ${byPriority.get(priority) ?? 0}`)
    .join(', ');
}

async function printServer(target: Target, origin: string): Promise<void> {
  process.stdout.write(`Redis: ${target.label} (${origin})\n`);
  const client = await connect(target);
  try {
    const facts = await readServerFacts(client);
    const warnings = durabilityWarnings(facts);
    process.stdout.write(
      `Redis ${facts.version}, maxmemory-policy ${facts.maxmemoryPolicy}, AOF ${facts.aofEnabled ? 'on' : 'off'}\n`,
    );
    for (const warning of warnings) process.stdout.write(`warning: ${warning}\n`);
  } finally {
    client.disconnect();
  }
}

async function run(redis: DemoRedis, opts: DemoOptions): Promise<void> {
  const target = resolveTarget(redis.url);
  await printServer(target, redis.origin);

  const { Queue, Worker } = await loadEngine();
  const logger = cliLogger();
  const queue = new Queue<WalletAudit>(QUEUE, { connection: target.url, logger });
  const worker = new Worker<WalletAudit>(QUEUE, auditHandler(FAILURE_RATE), {
    connection: target.url,
    concurrency: CONCURRENCY,
    logger,
  });

  const producer = new Producer(queue, opts.rate, randomAuditJob);
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

  const rateNote = `${opts.rate} jobs/s, ${CONCURRENCY} concurrent, ${FAILURE_RATE * 100}% transient failures`;
  const until = opts.duration === undefined ? 'until Ctrl-C' : `for ${opts.duration} s`;
  process.stdout.write(`Running ${QUEUE} demo ${until}: ${rateNote}\n`);

  // The tracking pipeline (HTTP -> stream -> PostgreSQL) runs beside the queue. Started first and
  // awaited: PGlite's first start (initdb) blocks the event loop for seconds, which would stall the queue demo.
  process.stdout.write(
    `Tracking: seed-004 events over HTTP into PostgreSQL (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'PGlite in .hopper/pglite-demo'}), starting...\n`,
  );
  const tracking = new TrackingDemo(target.url, logger);
  await tracking.ready();
  const status = new StatusLine(
    () => queue.getCounts(),
    tally,
    process.stdout,
    () => tracking.status(),
  );
  const startedAt = performance.now();
  producer.start();
  status.start();

  const reason = await untilStopped(opts.duration);
  forceExitOnSecondSignal();
  await producer.stop();
  status.stop();
  process.stdout.write(
    `Stopping (${reason}): producer stopped, waiting up to ${CLOSE_TIMEOUT_MS / 1000} s for running jobs...\n`,
  );
  await worker.close({ timeout: CLOSE_TIMEOUT_MS });
  await tracking.stop();
  const seconds = (performance.now() - startedAt) / 1000;
  const counts = await queue.getCounts();
  await queue.close();

  const perSecond = (n: number) => Math.round(n / seconds);
  const summary = [
    `Summary: ${producer.added} added, ${tally.completed} completed in ${seconds.toFixed(1)} s ` +
      `(${perSecond(producer.added)} added/s, ${perSecond(tally.completed)} completed/s)`,
    `  completed by priority: ${namedByPriority(tally.completedByPriority)}`,
    `  in Redis now: ${formatCounts(counts)} (retention prunes old completed jobs)`,
    tracking.summary(),
  ];
  const secrets = [target.options.password ?? ''];
  if (producer.errors > 0) {
    summary.push(
      `  add errors: ${producer.errors}, last: ${redactError(new Error(producer.lastError), secrets).message}`,
    );
  }
  if (workerErrors > 0) {
    summary.push(
      `  worker errors: ${workerErrors}, last: ${redactError(new Error(lastWorkerError), secrets).message}`,
    );
  }
  process.stdout.write(`${summary.join('\n')}\nshut down cleanly\n`);
}

async function demo(opts: DemoOptions): Promise<void> {
  const redis = await chooseDemoRedis();
  try {
    await run(redis, opts);
  } finally {
    await redis.stop();
  }
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run a producer and a worker on the wallet-audit queue with a live status line')
    .option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)', positiveNumber)
    .option('--rate <jobs/s>', 'jobs added per second', positiveNumber, 2000)
    .action(demo);
}
