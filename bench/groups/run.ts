/**
 * `npm run bench:groups`: processing throughput with 1,000 groups at group concurrency 1,
 * beside plain processing of the same jobs in the same run (target: within 2x of plain).
 * A private redis-server, a fresh process per (case, run), BENCH_RUNS runs (default 3),
 * cases interleaved; median (min–max). Rewrites the `groups` section of docs/benchmarks.md.
 */
import { runChild } from '../child.js';
import { writeSection } from '../doc.js';
import { describeMachine } from '../machine.js';
import { startRedis } from '../redis.js';
import { settings } from '../settings.js';
import { summarize } from '../stats.js';
import { GROUPS, type GroupFigures, JOBS } from './figures.js';

const CASES = ['plain', 'groups'] as const;

function fmt(v: number, digits = 0): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  const server = await startRedis({ aof: false });
  const results = new Map<string, GroupFigures[]>(CASES.map((c) => [c, []]));
  try {
    for (let run = 1; run <= settings.runs; run++) {
      for (const c of CASES) {
        await server.flushAll();
        const out = await runChild<GroupFigures>(
          'bench/groups/measure.ts',
          ['--case', c, '--url', server.url],
          120_000,
        );
        if (!out.ok) throw new Error(`${c}: ${out.error}`);
        results.get(c)!.push(out.value);
        console.error(`[${c}] run ${run}/${settings.runs}: ${fmt(out.value.rate)} jobs/s`);
      }
    }
  } finally {
    await server.stop();
  }
  const cell = (c: string, pick: (f: GroupFigures) => number, digits = 0) => {
    const s = summarize(results.get(c)!.map(pick))!;
    return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
  };
  const ratios = results.get('groups')!.map((g, i) => results.get('plain')![i]!.rate / g.rate);
  const ratio = summarize(ratios)!;
  const table = [
    '| case | jobs/s | Node µs/job | Redis µs/job |',
    '|---|---|---|---|',
    ...CASES.map(
      (c) =>
        `| ${c === 'plain' ? 'plain, no groups' : `${fmt(GROUPS)} groups, group concurrency 1`} | ${cell(c, (f) => f.rate)} | ${cell(c, (f) => f.nodeUsPerJob, 1)} | ${cell(c, (f) => f.redisUsPerJob, 1)} |`,
    ),
  ].join('\n');
  const verdict = `plain / groups throughput: ${fmt(ratio.median, 2)}x (per run ${ratios.map((r) => fmt(r, 2)).join(', ')}); target within 2x: ${ratio.median <= 2 ? 'met' : 'MISSED'}`;
  console.log(`\n${table}\n\n${verdict}`);
  writeSection(
    'groups',
    `## Groups: 1,000 groups at group concurrency 1 beside plain processing

${fmt(JOBS)} jobs added first, then one worker at concurrency 100 runs them; median (min–max) of ${settings.runs} runs, fresh process each, cases interleaved. ${describeMachine(server.version)}

${table}

${verdict}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
