/**
 * `npm run bench`: a private redis-server, a fresh child process per (case, run, library),
 * FLUSHALL between runs, medians with min–max; prints the table and rewrites the main
 * section of docs/benchmarks.md. Env: BENCH_RUNS, BENCH_LIBS=hopper,bullmq,bee,
 * BENCH_CASES=enqueue,bulk,process-c1,process-c100,latency, BENCH_AOF=0 to skip the AOF pass.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runChild } from './child.js';
import { writeSection } from './doc.js';
import { CASE_NAMES, type CaseName, type Figures } from './figures.js';
import { hopperAvailable } from './libs/hopper.js';
import { LIB_LABELS, LIB_NAMES, type LibName } from './libs/types.js';
import { describeMachine } from './machine.js';
import { type RedisServer, startRedis } from './redis.js';
import {
  type Outcome,
  type Results,
  renderFailures,
  renderNoise,
  renderTable,
  renderTargets,
  resultKey,
  type Scenario,
} from './report.js';
import { describeRevision, newestSourceChange } from './revision.js';
import { settings } from './settings.js';

function listFromEnv<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...all];
  const picked = raw.split(',').map((s) => s.trim()) as T[];
  const unknown = picked.filter((p) => !all.includes(p));
  if (unknown.length)
    throw new Error(`${name}: unknown ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  return picked;
}

function describe(outcome: Outcome, scenario: Scenario): string {
  if (!outcome.ok) return outcome.error;
  const f = outcome.value;
  const other = f.otherCpus === undefined ? '' : `; other processes ${f.otherCpus.toFixed(2)} CPUs`;
  if (scenario.startsWith('latency')) {
    return `p50 ${f.p50?.toFixed(2)} ms, p99 ${f.p99?.toFixed(2)} ms (${Math.round(f.producedRate ?? 0)} jobs/s produced)${other}`;
  }
  return `${Math.round(f.rate).toLocaleString('en-US')} jobs/s, Node ${f.nodeUsPerJob.toFixed(1)} µs + Redis ${f.redisUsPerJob.toFixed(1)} µs per job${other}`;
}

async function measureOn(
  server: RedisServer,
  scenarios: { scenario: Scenario; caseName: CaseName }[],
  libs: readonly LibName[],
  results: Results,
): Promise<void> {
  for (const { scenario, caseName } of scenarios) {
    for (let run = 1; run <= settings.runs; run++) {
      // Libraries interleaved within a run, so drift on the machine spreads over all of them.
      for (const lib of libs) {
        const key = resultKey(scenario, lib);
        const list = results.get(key) ?? [];
        results.set(key, list);
        if (lib === 'hopper' && !hopperAvailable()) {
          if (list.length === 0)
            list.push({ ok: false, error: 'skipped: src/index.ts not found (Hopper engine not built yet)' });
          continue;
        }
        await server.flushAll();
        const outcome = await runChild<Figures>(
          'bench/measure.ts',
          ['--lib', lib, '--case', caseName, '--url', server.url],
          settings.runTimeoutMs,
        );
        list.push(outcome);
        console.error(
          `[${scenario}] run ${run}/${settings.runs} ${LIB_LABELS[lib]}: ${describe(outcome, scenario)}`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const revision = describeRevision();
  const sourceAtStart = newestSourceChange();
  const libs = listFromEnv('BENCH_LIBS', LIB_NAMES);
  const cases = listFromEnv('BENCH_CASES', CASE_NAMES);
  const withAof = process.env.BENCH_AOF !== '0';
  const results: Results = new Map();

  const plain = await startRedis({ aof: false });
  const redisVersion = plain.version;
  try {
    await measureOn(
      plain,
      cases.map((c) => ({ scenario: c, caseName: c })),
      libs,
      results,
    );
  } finally {
    await plain.stop();
  }

  const aofCases = cases.filter(
    (c): c is 'enqueue' | 'process-c100' => c === 'enqueue' || c === 'process-c100',
  );
  let aofConfig = '';
  if (withAof && aofCases.length > 0) {
    const aof = await startRedis({ aof: true });
    aofConfig = aof.config;
    try {
      const scenarios = aofCases.map((c) => ({ scenario: `${c}@aof` as Scenario, caseName: c }));
      await measureOn(aof, scenarios, libs, results);
    } finally {
      await aof.stop();
    }
  }

  const elapsed = (Date.now() - started) / 1000;
  const failures = renderFailures(results);
  if (newestSourceChange() !== sourceAtStart) {
    failures.push('src/ changed while the benchmark ran: Hopper figures may mix code versions; run again');
  }
  const table = renderTable(results, libs);
  const targets = renderTargets(results);
  const noise = renderNoise(results);
  console.log(`\n${table}\n\nTargets (Hopper):\n\n${targets}\n`);
  if (noise) console.log(`${noise}\n`);
  if (failures.length) console.log(`Problems:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
  console.log(`Finished in ${elapsed.toFixed(0)} s.`);

  const outDir = join(REPO_ROOT, 'bench', '.out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(Object.fromEntries(results), null, 2));

  writeSection(
    'main',
    renderDoc({
      table,
      targets,
      failures,
      noise,
      revision,
      redisVersion,
      plainConfig: plain.config,
      aofConfig,
      elapsed,
    }),
  );
  console.log('Wrote docs/benchmarks.md (main section) and bench/.out/results.json');
}

function renderDoc(p: {
  table: string;
  targets: string;
  failures: string[];
  noise: string | undefined;
  revision: string;
  redisVersion: string;
  plainConfig: string;
  aofConfig: string;
  elapsed: number;
}): string {
  const s = settings;
  return `## Queue throughput and latency: Hopper vs BullMQ vs bee-queue

- Date: ${new Date().toISOString()}
- Machine: ${describeMachine(p.redisVersion)}
- Libraries: BullMQ 6.7.0 (ioredis, \`maxRetriesPerRequest: null\`), bee-queue 2.0.0, Hopper at ${p.revision}

### Method

- \`npm run bench\` starts its own redis-server on a free loopback port in a temp dir (${p.plainConfig}${p.aofConfig ? `; a second server with ${p.aofConfig} for the AOF rows` : ''}).
- Every figure comes from a fresh \`node --import tsx bench/measure.ts\` process per (case, run, library): ${s.runs} runs each, FLUSHALL before each run, libraries interleaved within a run. Cells show the median (min–max) over the runs; ratios divide Hopper's median by the other library's median. A run longer than ${s.runTimeoutMs / 1000} s is killed and reported as a timeout.
- Same settings for every library: payload \`{ i, t }\` (~30 bytes); ${s.attempts} attempts with exponential backoff ${s.backoffMs} ms (bee-queue: \`retries(${s.attempts - 1})\`); completed jobs removed (\`removeOnComplete: true\`, bee-queue \`removeOnSuccess: true\`); failed jobs kept. bee-queue queues use \`getEvents: false\` (nobody listens) and keep \`sendEvents\` on.
- **enqueue**: ${s.jobs.toLocaleString('en-US')} \`add()\` calls with ${s.inFlight} in flight at all times (bee-queue: \`createJob().save()\`).
- **bulk**: ${s.jobs.toLocaleString('en-US')} jobs in \`addBulk\` calls of ${s.bulkChunk.toLocaleString('en-US')} (bee-queue: \`saveAll\`).
- **process c=1 / c=100**: the queue is pre-filled with bulk adds, then one worker with a no-op async handler runs at concurrency 1 (${s.c1Jobs.toLocaleString('en-US')} timed jobs) or 100 (${s.jobs.toLocaleString('en-US')} timed jobs). Completions are counted from the library's own completed event (bee-queue: \`succeeded\`).
- Each timed window follows ${s.warmupJobs.toLocaleString('en-US')} untimed warm-up jobs in the same process (for process cases: the clock starts at the warm-up's last completion), so connection setup and script loading are not timed.
- **CPU per job**: the child's \`process.cpuUsage()\` (user + system) and redis-server's INFO \`used_cpu_user + used_cpu_sys\` over the timed window, divided by the jobs in it.
- **latency**: producer and worker (concurrency ${s.latencyConcurrency}) in the same process; the producer adds ${s.latencyRate.toLocaleString('en-US')} jobs/s on an even schedule (a 1 ms timer loop sends whatever is due), the job carries \`performance.now()\` at add and the handler subtracts it on entry. ${s.latencyWarmupSeconds} s warm-up, then ${s.latencySeconds} s recorded (${(s.latencyRate * s.latencySeconds).toLocaleString('en-US')} samples per run); the table shows the median over runs of each run's percentile.
- Whole run took ${p.elapsed.toFixed(0)} s.

### Results

${p.table}
${p.noise ? `\n${p.noise} Throughput is wall-clock and suffers when the machine is shared; CPU per job barely does.\n` : ''}
### Targets

${p.targets}
${p.failures.length ? `\n### Problems\n\n${p.failures.map((f) => `- ${f}`).join('\n')}\n` : ''}`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
