/**
 * `npm run bench:client`: which Redis client should Hopper use? ioredis vs node-redis (and
 * ioredis with auto-pipelining) on a private redis-server, a fresh process per measurement,
 * BENCH_RUNS runs (default 3), medians with min–max. Rewrites the "Redis client choice"
 * section of docs/benchmarks.md.
 */
import { runChild } from './child.js';
import { CLIENT_CASES, type ClientCase, type ClientFigures } from './client-figures.js';
import { CLIENT_LABELS, CLIENT_NAMES, type ClientName } from './clients.js';
import { writeSection } from './doc.js';
import { describeMachine } from './machine.js';
import { startRedis } from './redis.js';
import { settings } from './settings.js';
import { summarize } from './stats.js';

const CASE_LABELS: Record<ClientCase, string> = {
  ping: '(a) PING, 100 in flight',
  set: '(a) SET ~30 B, 100 in flight',
  evalsha: '(b) EVALSHA one-line Lua (INCRBY), 100 in flight',
  pipeline: '(c) pipeline of 1,000 SETs, one at a time',
  multi: '(c) MULTI/EXEC of 1,000 SETs, one at a time',
};

type Key = `${ClientCase}|${ClientName}`;

function fmt(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(
  runs: ClientFigures[],
  pick: (f: ClientFigures) => number,
  digits: number,
  total: number,
): string {
  const s = summarize(runs.map(pick));
  if (!s) return 'error';
  const text = `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
  return s.n < total ? `${text} [${s.n}/${total} ok]` : text;
}

async function main(): Promise<void> {
  const started = Date.now();
  const results = new Map<Key, ClientFigures[]>();
  const errors: string[] = [];
  const server = await startRedis({ aof: false });
  const redisVersion = server.version;
  try {
    for (const c of CLIENT_CASES) {
      for (let run = 1; run <= settings.runs; run++) {
        for (const client of CLIENT_NAMES) {
          await server.flushAll();
          const outcome = await runChild<ClientFigures>(
            'bench/client-measure.ts',
            ['--client', client, '--case', c, '--url', server.url],
            settings.runTimeoutMs,
          );
          const key: Key = `${c}|${client}`;
          const list = results.get(key) ?? [];
          results.set(key, list);
          if (outcome.ok) {
            list.push(outcome.value);
            const f = outcome.value;
            console.error(
              `[${c}] run ${run}/${settings.runs} ${client}: ${Math.round(f.opsPerSec).toLocaleString('en-US')} ops/s, Node ${f.nodeUsPerOp.toFixed(2)} µs + Redis ${f.redisUsPerOp.toFixed(2)} µs per op`,
            );
          } else {
            errors.push(`${client} ${c} run ${run}: ${outcome.error}`);
            console.error(`[${c}] run ${run}/${settings.runs} ${client}: ${outcome.error}`);
          }
        }
      }
    }
  } finally {
    await server.stop();
  }

  const head = ['measurement', 'figure', ...CLIENT_NAMES.map((n) => CLIENT_LABELS[n])];
  const lines = [`| ${head.join(' | ')} |`, `|---|---|${CLIENT_NAMES.map(() => '---:').join('|')}|`];
  const figures: [string, (f: ClientFigures) => number, number][] = [
    ['ops/s', (f) => f.opsPerSec, 0],
    ['Node CPU µs/op', (f) => f.nodeUsPerOp, 2],
    ['Redis CPU µs/op', (f) => f.redisUsPerOp, 2],
  ];
  for (const c of CLIENT_CASES) {
    for (const [label, pick, digits] of figures) {
      const cells = CLIENT_NAMES.map((n) =>
        cell(results.get(`${c}|${n}`) ?? [], pick, digits, settings.runs),
      );
      lines.push(`| ${CASE_LABELS[c]} | ${label} | ${cells.join(' | ')} |`);
    }
  }
  const table = lines.join('\n');
  const elapsed = (Date.now() - started) / 1000;
  console.log(`\n${table}\n\nFinished in ${elapsed.toFixed(0)} s.`);
  if (errors.length) console.log(`Failures:\n${errors.map((e) => `- ${e}`).join('\n')}`);

  writeSection(
    'client',
    `## Redis client choice

- Date: ${new Date().toISOString()}
- Machine: ${describeMachine(redisVersion)}
- Method: \`npm run bench:client\`; a private redis-server (\`--save "" --appendonly no\`) on a free loopback port; a fresh \`node --import tsx bench/client-measure.ts\` process per (measurement, run, client), ${settings.runs} runs, FLUSHALL before each, clients interleaved within a run; cells are median (min–max). Each run times 100,000 commands after 2,000 untimed warm-up commands. "100 in flight": 100 async loops each awaiting its own command. Batches: 100 pipelines (or MULTI/EXEC blocks) of 1,000 SETs, each awaited before the next (ioredis \`pipeline()\`/\`multi()\`, node-redis \`multi().execAsPipeline()\`/\`exec()\`). Node CPU is \`process.cpuUsage()\` (user + system) of the child; Redis CPU is INFO \`used_cpu_user + used_cpu_sys\`; both over the timed window, divided by 100,000.
- Clients: ioredis 6.0.0 (default options, and with \`enableAutoPipelining: true\`), node-redis (\`redis\`) 5.12.1 (default options; it writes all commands issued in the same tick in one socket write).
- Whole run took ${elapsed.toFixed(0)} s.

${table}
${errors.length ? `\nFailed runs:\n\n${errors.map((e) => `- ${e}`).join('\n')}\n` : ''}`,
  );
  console.log('Wrote docs/benchmarks.md (Redis client choice section)');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
