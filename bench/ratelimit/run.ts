/**
 * `npm run bench:ratelimit`: Hopper's limiters (each algorithm, batched and one call per
 * check) side by side with rate-limiter-flexible's RateLimiterRedis, on a private
 * redis-server; a fresh process per (case, run), BENCH_RUNS runs (default 3), median
 * (min–max). Rewrites the `ratelimit` section of docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { ALGORITHMS } from '../../src/ratelimit/index.js';
import { PACKED_LOG_MAX_LIMIT } from '../../src/ratelimit/storage.js';
import { runChild } from '../child.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { startRedis } from '../redis.js';
import { settings } from '../settings.js';
import { summarize } from '../stats.js';
import {
  DURATION_MS,
  IN_FLIGHT,
  KEYS,
  LIMIT,
  type LimitFigures,
  WARMUP_MS,
  WINDOW_MS,
  ZSET_LIMIT,
} from './figures.js';

interface Case {
  id: string;
  args: string[];
}

const CASES: Case[] = [
  ...ALGORITHMS.map((a) => ({
    id: `${a}|batched`,
    args: ['--lib', 'hopper', '--algorithm', a, '--batch', '1'],
  })),
  ...ALGORITHMS.map((a) => ({
    id: `${a}|single`,
    args: ['--lib', 'hopper', '--algorithm', a, '--batch', '0'],
  })),
  {
    id: 'sliding-window-zset|batched',
    args: ['--lib', 'hopper', '--algorithm', 'sliding-window', '--batch', '1', '--limit', String(ZSET_LIMIT)],
  },
  { id: 'rlf', args: ['--lib', 'rlf'] },
];

function fmt(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(runs: LimitFigures[] | undefined, pick: (f: LimitFigures) => number, digits: number): string {
  const s = summarize((runs ?? []).map(pick));
  if (!s) return 'error';
  const text = `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
  return s.n < settings.runs ? `${text} [${s.n}/${settings.runs} ok]` : text;
}

function version(pkg: string): string {
  const url = new URL(`../../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const started = Date.now();
  const results = new Map<string, LimitFigures[]>();
  const errors: string[] = [];
  const server = await startRedis({ aof: false });
  const redisVersion = server.version;
  try {
    for (let run = 1; run <= settings.runs; run++) {
      for (const c of CASES) {
        await server.flushAll();
        const outcome = await runChild<LimitFigures>(
          'bench/ratelimit/measure.ts',
          [...c.args, '--url', server.url],
          settings.runTimeoutMs,
        );
        if (outcome.ok) {
          const list = results.get(c.id) ?? [];
          list.push(outcome.value);
          results.set(c.id, list);
          const f = outcome.value;
          console.error(
            `run ${run}/${settings.runs} ${c.id}: ${Math.round(f.checksPerSec).toLocaleString('en-US')} checks/s, p99 ${f.p99Ms.toFixed(2)} ms, Node ${f.nodeUsPerCheck.toFixed(1)} µs/check, Redis ${f.redisUsPerCheck.toFixed(1)} µs/check`,
          );
        } else {
          errors.push(`${c.id} run ${run}: ${outcome.error}`);
          console.error(`run ${run}/${settings.runs} ${c.id}: ${outcome.error}`);
        }
      }
    }
  } finally {
    await server.stop();
  }

  const rlf = summarize((results.get('rlf') ?? []).map((f) => f.checksPerSec));
  const ratio = (id: string) => {
    const s = summarize((results.get(id) ?? []).map((f) => f.checksPerSec));
    return s && rlf ? `${fmt(s.median / rlf.median, 2)}x` : 'n/a';
  };
  const lines = [
    '| limiter | checks/s | p99 per check (ms) | Node CPU µs/check | Redis CPU µs/check | allowed % | checks/s, one call per check | p99 (ms), one call per check | Hopper batched / RLF |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const row = (label: string, id: string, single: string) => {
    const b = results.get(id);
    lines.push(
      `| ${label} | ${cell(b, (f) => f.checksPerSec, 0)} | ${cell(b, (f) => f.p99Ms, 2)} | ${cell(b, (f) => f.nodeUsPerCheck, 1)} | ${cell(b, (f) => f.redisUsPerCheck, 1)} | ${cell(b, (f) => f.allowedShare * 100, 0)} | ${single} | ${ratio(id)} |`,
    );
  };
  for (const a of ALGORITHMS) {
    const s = results.get(`${a}|single`);
    row(
      `Hopper ${a}`,
      `${a}|batched`,
      `${cell(s, (f) => f.checksPerSec, 0)} | ${cell(s, (f) => f.p99Ms, 2)}`,
    );
  }
  row(
    `Hopper sliding-window, limit ${ZSET_LIMIT} (sorted set)`,
    'sliding-window-zset|batched',
    'not measured | ',
  );
  row('rate-limiter-flexible RateLimiterRedis (fixed window)', 'rlf', '(always one call per check) | ');
  const table = lines.join('\n');
  const elapsed = (Date.now() - started) / 1000;
  console.log(`\n${table}\n\nFinished in ${elapsed.toFixed(0)} s.`);
  if (errors.length) console.log(`Failures:\n${errors.map((e) => `- ${e}`).join('\n')}`);

  writeSection(
    'ratelimit',
    `## Rate limiters

- Date: ${new Date().toISOString()}
- Machine: ${describeMachine(redisVersion)}
- Method: \`npm run bench:ratelimit\`; a private redis-server (\`--save "" --appendonly no\`) on a free loopback port; a fresh \`node --import tsx bench/ratelimit/measure.ts\` process per (limiter, run), ${settings.runs} runs, FLUSHALL before each, limiters interleaved within a run; cells are median (min–max). Each process keeps ${IN_FLIGHT} checks in flight (${IN_FLIGHT} async loops, each awaiting its own \`limit()\`/\`consume()\`) over ${KEYS.toLocaleString('en-US')} keys in turn, limit ${LIMIT} per ${WINDOW_MS} ms, ${WARMUP_MS} ms untimed warm-up then ${DURATION_MS} ms timed. p99 is over every check's latency in the timed window; Node CPU is \`process.cpuUsage()\` of the child and Redis CPU is INFO \`used_cpu_user + used_cpu_sys\`, both over that window, per check.
- Hopper: one connection per limiter, default options (\`batch: true\`); "one call per check" is \`batch: false\`. The exact \`sliding-window\` keeps a packed string log up to a limit of ${PACKED_LOG_MAX_LIMIT} and a sorted set above: the row "limit ${ZSET_LIMIT} (sorted set)" runs the same traffic against the sorted set ("allowed %" shows how many checks each admitted: an admitted check stores a unit, a denied one stores nothing). rate-limiter-flexible ${version('rate-limiter-flexible')}: \`RateLimiterRedis\` with an ioredis ${version('ioredis')} client, its default Lua script (fixed window), one EVALSHA per \`consume()\`.
- Target (issue 5): checks at least 2x rate-limiter-flexible.
- Whole run took ${elapsed.toFixed(0)} s.

${table}
${errors.length ? `\nFailed runs:\n\n${errors.map((e) => `- ${e}`).join('\n')}\n` : ''}`,
  );
  console.log('Wrote docs/benchmarks.md (ratelimit section)');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
