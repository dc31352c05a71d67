/**
 * `npm run bench:profile`: why the two queue targets issue 11 missed are missed.
 * 1. Enqueue (100 add() calls in flight): a V8 CPU profile of the same measurement child
 *    `npm run bench:queue` uses, for Hopper and bee-queue, split by where the Node CPU goes.
 * 2. add→start latency at 1,000 jobs/s: the Redis commands each library sends per job
 *    (INFO commandstats over the same latency measurement), which counts the round trips.
 * Writes the `profile` section of docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../child.js';
import { writeSection } from '../doc.js';
import type { LibName } from '../libs/types.js';
import { LIB_LABELS } from '../libs/types.js';
import { type RedisServer, startRedis } from '../redis.js';
import { settings } from '../settings.js';
import { type Marker, type ProfileSummary, summarise } from './cpu-profile.js';

/** Where each library's own code lives: its samples bound the timed part of the profile. */
const MARKER: Record<'hopper' | 'bee', Marker> = {
  hopper: { url: '/src/queue/queue.ts', functionName: 'prepare' },
  bee: { url: '/node_modules/bee-queue/lib/job.js', functionName: 'save' },
};

interface Measured {
  nodeUsPerJob: number;
  rate: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

function measure(lib: LibName, caseName: string, url: string, nodeFlags: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeFlags, '--import', 'tsx', 'bench/measure.ts', '--lib', lib, '--case', caseName, '--url', url],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('close', () => {
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"ok"'));
      const result = line
        ? (JSON.parse(line) as { ok: boolean; figures?: Measured; error?: string })
        : undefined;
      if (result?.ok && result.figures) resolve(result.figures);
      else reject(new Error(`${lib} ${caseName}: ${result?.error ?? 'no result'}`));
    });
  });
}

async function profileEnqueue(lib: 'hopper' | 'bee', redis: RedisServer) {
  const dir = mkdtempSync(join(tmpdir(), 'hopper-profile-'));
  try {
    await redis.flushAll();
    const figures = await measure(lib, 'enqueue', redis.url, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      '--cpu-prof-interval=200',
    ]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`${lib}: node wrote no profile`);
    return { figures, profile: summarise(join(dir, file), MARKER[lib]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The commands a library sends per job in the latency case, read with MONITOR: each sent
 * command is a round trip (or part of a pipeline); calls a script makes inside Redis are
 * counted apart, as they cost Redis CPU but no round trip.
 */
async function commandsPerJob(lib: LibName, redis: RedisServer) {
  await redis.flushAll();
  const monitor = await redis.admin.duplicate().monitor();
  const calls = new Map<string, number>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = source === 'lua' ? '(calls inside scripts)' : String(args[0]).toLowerCase();
    calls.set(name, (calls.get(name) ?? 0) + 1);
  });
  try {
    const figures = await measure(lib, 'latency', redis.url, []);
    const jobs = settings.latencyRate * (settings.latencyWarmupSeconds + settings.latencySeconds);
    // A copy: MONITOR may still report the next run's first commands before it closes.
    const skip = new Set([
      'monitor',
      'info',
      'config',
      'flushall',
      'ping',
      'client',
      'select',
      'quit',
      'hello',
    ]);
    const perJob = new Map(
      [...calls].filter(([name]) => !skip.has(name)).map(([name, n]) => [name, n / jobs]),
    );
    return { figures, calls: perJob };
  } finally {
    monitor.disconnect();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const us = (x: number) => x.toFixed(2);

function profileTable(h: { figures: Measured; profile: ProfileSummary }, b: typeof h): string {
  const labels = [...new Set([...h.profile.categories, ...b.profile.categories].map((c) => c.label))];
  const share = (p: ProfileSummary, l: string) => p.categories.find((c) => c.label === l)?.share ?? 0;
  const rows = labels.map((l) => {
    const hs = share(h.profile, l);
    const bs = share(b.profile, l);
    return `| ${l} | ${pct(hs)} | ${us(hs * h.figures.nodeUsPerJob)} | ${pct(bs)} | ${us(bs * b.figures.nodeUsPerJob)} |`;
  });
  return [
    '| where the Node CPU goes | Hopper share | Hopper µs per add | bee-queue share | bee-queue µs per add |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    `| **all** | 100% | **${us(h.figures.nodeUsPerJob)}** | 100% | **${us(b.figures.nodeUsPerJob)}** |`,
  ].join('\n');
}

function topTable(h: ProfileSummary, perAdd: number): string {
  return [
    '| Hopper function (self time) | where | share | µs per add |',
    '|---|---|---:|---:|',
    ...h.top.map((t) => `| \`${t.label}\` | ${t.where} | ${pct(t.share)} | ${us(t.share * perAdd)} |`),
  ].join('\n');
}

function commandTable(per: Record<string, Map<string, number>>): string {
  const libs = Object.keys(per) as LibName[];
  const cmds = [...new Set(libs.flatMap((l) => [...per[l]!.keys()]))].sort();
  return [
    `| command | ${libs.map((l) => LIB_LABELS[l]).join(' | ')} |`,
    `|---|${libs.map(() => '---:').join('|')}|`,
    ...cmds.map((c) => `| ${c} | ${libs.map((l) => (per[l]!.get(c) ?? 0).toFixed(2)).join(' | ')} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedis({ aof: false });
  try {
    console.log('profiling enqueue: hopper');
    const hopper = await profileEnqueue('hopper', redis);
    console.log('profiling enqueue: bee-queue');
    const bee = await profileEnqueue('bee', redis);
    const latency: Record<string, Map<string, number>> = {};
    const lat: Record<string, Measured> = {};
    for (const lib of ['hopper', 'bee'] as const) {
      console.log(`commands per job at ${settings.latencyRate} jobs/s: ${lib}`);
      const r = await commandsPerJob(lib, redis);
      latency[lib] = r.calls;
      lat[lib] = r.figures;
    }
    const body = `## Profiles of the missed queue targets (\`npm run bench:profile\`)

- Date: ${new Date().toISOString()}; one profiled run per library, ${settings.jobs.toLocaleString('en-US')} adds with ${settings.inFlight} in flight (the \`enqueue\` case of \`bench/measure.ts\`, run under \`node --cpu-prof --cpu-prof-interval=200\`); shares are of the non-idle samples between the first and the last with the library's add call on the stack (Hopper's \`prepare\`, bee-queue's \`save\`), µs per add = share × the run's Node CPU per add. The profiler costs some CPU itself, so these runs' totals are above \`bench:queue\`'s.
- This run: Hopper ${Math.round(hopper.figures.rate).toLocaleString('en-US')} adds/s at ${us(hopper.figures.nodeUsPerJob)} µs Node CPU per add; bee-queue ${Math.round(bee.figures.rate).toLocaleString('en-US')} adds/s at ${us(bee.figures.nodeUsPerJob)} µs.

### Enqueue: where each add's Node CPU goes

bee-queue's time falls mostly in frames these categories do not name ("other"); its column is there for the totals.

${profileTable(hopper, bee)}

${topTable(hopper.profile, hopper.figures.nodeUsPerJob)}

### Latency: Redis commands per job at ${settings.latencyRate.toLocaleString('en-US')} jobs/s

Commands each library sent (MONITOR) during the \`latency\` case (${settings.latencyWarmupSeconds} s warm-up + ${settings.latencySeconds} s, worker concurrency ${settings.latencyConcurrency}), divided by the jobs added. This run's p50 / p95 / p99: Hopper ${lat.hopper!.p50?.toFixed(2)} / ${lat.hopper!.p95?.toFixed(2)} / ${lat.hopper!.p99?.toFixed(2)} ms, bee-queue ${lat.bee!.p50?.toFixed(2)} / ${lat.bee!.p95?.toFixed(2)} / ${lat.bee!.p99?.toFixed(2)} ms.

${commandTable(latency)}

Whole run took ${Math.round((Date.now() - started) / 1000)} s.`;
    writeSection('profile', body);
    console.log(body);
  } finally {
    await redis.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
