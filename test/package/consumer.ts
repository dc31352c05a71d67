import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './pack.js';

const exec = promisify(execFile);
const FIXTURES = join(ROOT, 'test', 'package', 'fixtures');

export interface Consumer {
  dir: string;
  /** npm's output of the install (warnings included). */
  installLog: string;
}

/**
 * A fresh project (`type` module or commonjs) in a temp dir with the tarball installed
 * as a user installs it, from npm's cache where it can (`--prefer-offline`: the tarballs
 * are there since this checkout's own install). Not `--offline`: an install from a lockfile
 * caches tarballs but not the registry's package documents a lockfile-less install needs,
 * so on a machine whose cache is fresh an offline install fails.
 */
export async function freshProject(type: 'module' | 'commonjs', tarball: string): Promise<Consumer> {
  const dir = mkdtempSync(join(tmpdir(), `hopper-consumer-${type}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }));
  const { stdout, stderr } = await exec(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn', tarball],
    { cwd: dir, timeout: 120_000 },
  );
  // One typed usage, as an ES module and as a CommonJS module: tsc takes the format from
  // the extension, and resolves 'hopper-queue' through the import and require conditions.
  copyFileSync(join(FIXTURES, 'usage.ts'), join(dir, 'usage.mts'));
  copyFileSync(join(FIXTURES, 'usage.ts'), join(dir, 'usage.cts'));
  copyFileSync(join(FIXTURES, 'optional.mjs'), join(dir, 'optional.mjs'));
  return { dir, installLog: stdout + stderr };
}

/** Top-level package names under node_modules (scoped ones as @scope/name). */
export function installedPackages(dir: string): string[] {
  const top = join(dir, 'node_modules');
  return readdirSync(top)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (n.startsWith('@') ? readdirSync(join(top, n)).map((m) => `${n}/${m}`) : [n]));
}

/**
 * Compiles usage.mts and usage.cts (one program: @types/node is checked once) with the consumer's settings a strict project uses: NodeNext modules,
 * `skipLibCheck: false` (so every shipped .d.ts is checked), the checkout's TypeScript
 * and @types/node (not installed in the consumer, which needs neither at run time).
 */
export async function compileUsage(dir: string, tarball: string): Promise<string[]> {
  // Same tarball, fixture and TypeScript: same result. Reused, as tsc with skipLibCheck: false
  // checks all of @types/node (seconds of CPU).
  const key = createHash('sha256');
  for (const f of [
    tarball,
    join(FIXTURES, 'usage.ts'),
    join(ROOT, 'node_modules', 'typescript', 'package.json'),
  ])
    key.update(readFileSync(f));
  const cache = join(ROOT, 'node_modules', '.cache', 'hopper-pack', `tsc-${key.digest('hex').slice(0, 16)}`);
  if (existsSync(join(cache, 'errors.json'))) {
    cpSync(cache, join(dir, 'out'), { recursive: true });
    return JSON.parse(readFileSync(join(cache, 'errors.json'), 'utf8')) as string[];
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        outDir: 'out',
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['usage.mts', 'usage.cts'],
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await exec(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], {
    cwd: dir,
    timeout: 120_000,
  }).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => err.stdout ?? String(err),
  );
  const errors = result.split('\n').filter((line) => /error TS\d+/.test(line));
  writeFileSync(join(dir, 'out', 'errors.json'), JSON.stringify(errors));
  mkdirSync(join(cache, '..'), { recursive: true });
  try {
    cpSync(join(dir, 'out'), `${cache}.tmp-${process.pid}`, { recursive: true });
    renameSync(`${cache}.tmp-${process.pid}`, cache);
  } catch {
    // A parallel run stored it first.
  }
  return errors;
}

export async function runIn(
  dir: string,
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  return exec(file, args, { cwd: dir, env: { ...process.env, ...env }, timeout: 60_000 });
}
