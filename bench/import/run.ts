/**
 * `npm run bench:import`: what installing and importing Hopper costs, beside ioredis and
 * BullMQ in the same run. The package is packed and installed into a fresh project as a
 * user gets it (test/package/pack.ts); BullMQ into another. Import time: a fresh Node
 * process per import, rounds interleaved so load on the machine hits every row alike,
 * CPU time (median) and wall time (minimum) of IMPORT_RUNS (default 15). BEFORE_TARBALL=<path.tgz> adds an older
 * Hopper tarball as a row (its package name is read from it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freshProject, installedPackages } from '../../test/package/consumer.js';
import { packedTarball, ROOT } from '../../test/package/pack.js';

const exec = promisify(execFile);
const RUNS = Number(process.env.IMPORT_RUNS ?? 15);

interface Project {
  label: string;
  dir: string;
}

async function install(label: string, what: string): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'hopper-bench-import-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true, type: 'module' }));
  await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error', what], {
    cwd: dir,
  });
  return { label, dir };
}

function bytes(path: string): number {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, f) => n + bytes(join(path, f)), 0) : st.size;
}

function installSize(p: Project): string {
  const top = join(p.dir, 'node_modules');
  const all = execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: p.dir, encoding: 'utf8' })
    .trim()
    .split('\n')
    .slice(1);
  return `${p.label}: ${new Set(all).size} packages, ${(bytes(top) / 1e6).toFixed(1)} MB (${installedPackages(p.dir).length} top-level)`;
}

interface Sample {
  /** ms of CPU (user + system) the import used: what it costs, little swayed by other load. */
  cpu: number;
  /** ms from before import() to after it resolved. */
  wall: number;
}

/** One import in a fresh process. */
function importOnce(dir: string, specifier: string, kind: 'import' | 'require'): Sample {
  const load =
    kind === 'import'
      ? `await import(${JSON.stringify(specifier)})`
      : `require(${JSON.stringify(specifier)})`;
  const code = `const t = performance.now(); const c = process.cpuUsage(); ${load}; const u = process.cpuUsage(c);
    process.stdout.write(JSON.stringify({ cpu: (u.user + u.system) / 1000, wall: performance.now() - t }));`;
  const args = kind === 'import' ? ['--input-type=module', '-e', code] : ['-e', code];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8' })) as Sample;
}

function beforePackageName(tgz: string): string {
  const json = execFileSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' });
  return (JSON.parse(json) as { name: string }).name;
}

const tarball = await packedTarball();
const bullVersion = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules', 'bullmq', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
const before = process.env.BEFORE_TARBALL;
const [hopper, bull, old] = await Promise.all([
  freshProject('module', tarball).then((c) => ({ label: 'hopper-queue', dir: c.dir })),
  install(`bullmq@${bullVersion}`, `bullmq@${bullVersion}`),
  before ? install(`before (${beforePackageName(before)})`, before) : undefined,
]);

const rows: { label: string; dir: string; specifier: string; kind: 'import' | 'require' }[] = [
  { label: 'ioredis (import)', dir: hopper.dir, specifier: 'ioredis', kind: 'import' },
  { label: 'hopper-queue (import)', dir: hopper.dir, specifier: 'hopper-queue', kind: 'import' },
  { label: 'hopper-queue (require)', dir: hopper.dir, specifier: 'hopper-queue', kind: 'require' },
  { label: `bullmq ${bullVersion} (import)`, dir: bull.dir, specifier: 'bullmq', kind: 'import' },
];
if (old) rows.push({ label: old.label, dir: old.dir, specifier: beforePackageName(before!), kind: 'import' });

const samples = rows.map(() => [] as Sample[]);
for (let r = 0; r < RUNS; r++)
  for (const [i, row] of rows.entries()) samples[i]!.push(importOnce(row.dir, row.specifier, row.kind));

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const cpuOf = (i: number) => samples[i]!.map((x) => x.cpu);
const wallOf = (i: number) => samples[i]!.map((x) => x.wall);
const baseCpu = median(cpuOf(0));
const baseWall = Math.min(...wallOf(0));
console.log(`Import cost, ${RUNS} fresh processes each, interleaved (node ${process.version}):`);
console.log('| import | CPU ms, median | CPU vs ioredis | wall ms, min | wall vs ioredis |');
console.log('|---|---:|---:|---:|---:|');
for (const [i, row] of rows.entries()) {
  const cpu = median(cpuOf(i));
  const wall = Math.min(...wallOf(i));
  const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}x`;
  console.log(
    `| ${row.label} | ${cpu.toFixed(1)} | ${ratio(cpu, baseCpu)} | ${wall.toFixed(1)} | ${ratio(wall, baseWall)} |`,
  );
}
console.log('\nInstall size (npm ls --all, bytes on disk under node_modules):');
for (const p of [hopper, bull, ...(old ? [old] : [])]) console.log(`- ${installSize(p)}`);
console.log(
  `\nload average at the end: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

for (const p of [hopper, bull, ...(old ? [old] : [])]) rmSync(p.dir, { recursive: true, force: true });
