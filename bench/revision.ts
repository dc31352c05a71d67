/** Which Hopper code a report measured: the commit, and whether src/ had uncommitted changes. */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './child.js';

function git(args: string[]): string {
  return execFileSync('git', args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

export function describeRevision(): string {
  try {
    const head = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length;
    return dirty ? `${head} + uncommitted changes in ${dirty} files under src/` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** Newest modification time (ms) of any file under src/: compared at start and end of a run. */
export function newestSourceChange(): number {
  let newest = 0;
  const entries = readdirSync(join(REPO_ROOT, 'src'), { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
