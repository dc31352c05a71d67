/**
 * `npm run bench:schedule`: the cost of the scheduler with 10,000 schedules, on a
 * private redis-server. Prints: how fast schedules are created; with every schedule
 * ticking each second (10,000 ticks/s asked), the Node and Redis CPU per tick fired
 * and the lateness of ticks, for one and for four schedulers racing; the most ticks
 * one scheduler fires when asked for 100,000 per second; and the idle cost of the
 * scheduler loop when nothing is due. About a minute and a half. Rewrites the `schedule`
 * section of docs/benchmarks.md.
 */
import { loadavg } from 'node:os';
import { pino } from 'pino';
import { Queue } from '../../src/index.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { startRedis } from '../redis.js';
import { measureWindow, type WindowFigures } from './measure.js';

const SCHEDULES = 10_000;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const fmt = (v: number, digits = 0) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function createSchedules(queue: Queue, every: number): Promise<number> {
  const started = performance.now();
  const inFlight = 200;
  for (let i = 0; i < SCHEDULES; i += inFlight) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(SCHEDULES, i + inFlight); j++)
      batch.push(queue.schedule(`s${j}`, { every }, { name: 'scan', data: { strategy: j } }));
    await Promise.all(batch);
  }
  return SCHEDULES / ((performance.now() - started) / 1000);
}

function row(label: string, f: WindowFigures): string {
  return `| ${label} | ${f.schedulers} | ${fmt(f.ticksPerSecond)} | ${fmt(f.nodeUsPerTick, 1)} | ${fmt(f.redisUsPerTick, 1)} | ${fmt(f.lateP50)} / ${fmt(f.lateP99)} | ${fmt(f.lostRaces)} |`;
}

async function main(): Promise<void> {
  const server = await startRedis({ aof: false });
  const logger = pino({ level: 'silent' });
  const lines: string[] = [];
  const print = (l: string) => {
    lines.push(l);
    console.log(l);
  };
  try {
    print(
      `Machine: ${describeMachine(server.version)}; load average ${loadavg()[0]!.toFixed(1)}; windows of ${WINDOW_MS / 1000} s`,
    );
    const fresh = async (every: number) => {
      await server.flushAll();
      const queue = new Queue('bench-schedule', { connection: server.url, logger });
      const perSecond = await createSchedules(queue, every);
      return { queue, perSecond };
    };

    const rows: string[] = [];
    let created = 0;
    for (const [label, every, schedulers] of [
      ['10,000 every 1 s', 1000, 1],
      ['10,000 every 1 s', 1000, 4],
      ['10,000 every 100 ms (saturated)', 100, 1],
    ] as const) {
      const { queue, perSecond } = await fresh(every);
      created = Math.max(created, perSecond);
      rows.push(row(label, await measureWindow(queue, server.url, server.admin, schedulers, WINDOW_MS)));
      await queue.close();
    }

    // Idle: nothing due for an hour; beside it the same window with no scheduler, for Redis's own background cost.
    const { queue } = await fresh(3600_000);
    const none = await measureWindow(queue, server.url, server.admin, 0, WINDOW_MS);
    const idle = await measureWindow(queue, server.url, server.admin, 1, WINDOW_MS);
    await queue.close();

    print('');
    print(`schedule(): ${fmt(created)} schedules created per second (200 calls in flight)`);
    print('');
    print(
      '| schedules | schedulers | ticks fired/s | Node CPU µs/tick | Redis CPU µs/tick | late ms p50 / p99 | reads lost to another scheduler |',
    );
    print('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) print(r);
    print('');
    print(
      `Idle (10,000 schedules, none due), one scheduler: ${fmt(idle.roundsPerSecond, 1)} rounds/s, Node ${fmt(idle.nodeMsPerSecond, 2)} ms CPU/s, Redis ${fmt(idle.redisMsPerSecond, 2)} ms CPU/s; no scheduler: Node ${fmt(none.nodeMsPerSecond, 2)} ms CPU/s, Redis ${fmt(none.redisMsPerSecond, 2)} ms CPU/s`,
    );
    writeSection(
      'schedule',
      `## Scheduler overhead: 10,000 schedules\n\nFrom \`npm run bench:schedule\` (one run; see docs/scheduling.md).\n\n${lines.join('\n')}`,
    );
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
