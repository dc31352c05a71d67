import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** What `npm pack` reads: a change to any of them makes a new tarball. */
const INPUTS = [
  'src',
  'bin',
  'scripts',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'LICENSE',
];

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => files(join(path, name)));
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const input of INPUTS)
    for (const file of files(join(ROOT, input)).sort()) {
      hash.update(relative(ROOT, file));
      hash.update(readFileSync(file));
    }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The package tarball as `npm pack` makes it (its `prepack` builds dist/), cached under
 * node_modules/.cache by a hash of what goes into it: the build costs tens of seconds, an
 * unchanged tree reuses it. Packed from a copy of the sources in a temp dir, so the
 * checkout's own dist/ is never written while other tests run bin/hopper.js.
 */
export async function packedTarball(): Promise<string> {
  const cache = join(ROOT, 'node_modules', '.cache', 'hopper-pack', inputsHash());
  const done = existsSync(cache) ? readdirSync(cache).find((f) => f.endsWith('.tgz')) : undefined;
  if (done) return join(cache, done);

  const stage = mkdtempSync(join(tmpdir(), 'hopper-stage-'));
  try {
    for (const input of INPUTS) cpSync(join(ROOT, input), join(stage, input), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
    const out = join(stage, 'out');
    mkdirSync(out);
    await run('npm', ['pack', '--pack-destination', out, '--silent'], { cwd: stage, timeout: 240_000 });
    mkdirSync(join(cache, '..'), { recursive: true });
    // Renamed into place whole, so a parallel run never sees half a cache entry.
    renameSync(out, cache);
    // Older tarballs (and their compile results) are of no further use.
    for (const old of readdirSync(join(cache, '..')))
      if (join(cache, '..', old) !== cache) rmSync(join(cache, '..', old), { recursive: true, force: true });
  } catch (err) {
    if (!existsSync(cache)) throw err;
  } finally {
    // The link first: the checkout's node_modules must never be removed through it.
    if (existsSync(join(stage, 'node_modules'))) unlinkSync(join(stage, 'node_modules'));
    rmSync(stage, { recursive: true, force: true });
  }
  const tgz = readdirSync(cache).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack left no tarball in ${cache}`);
  return join(cache, tgz);
}
