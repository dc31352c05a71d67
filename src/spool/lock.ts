import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SpoolLockedError } from './errors.js';

/** Directories this process holds: a lock file naming our own pid is stale unless listed here. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function owner(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim()) || 0;
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * Takes the directory's lock file (`lock`, holding the owner's pid) or throws
 * SpoolLockedError while a live process holds it. A lock left by a dead process is
 * moved aside first (rename: only one taker wins it), so two processes finding the
 * same stale lock cannot both take over. Returns the release function.
 */
export function acquireLock(dir: string): () => void {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(dir);
      return () => {
        held.delete(dir);
        if (owner(path) === process.pid) unlinkSync(path);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = owner(path);
    if (pid === undefined) continue;
    const ours = pid === process.pid && held.has(dir);
    if (ours || (pid !== process.pid && pid > 0 && alive(pid))) throw new SpoolLockedError(dir, pid);
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // another process moved it first
    }
    const moved = owner(aside);
    if (moved !== pid && moved !== undefined && moved > 0 && alive(moved)) {
      // We moved a fresh lock someone took meanwhile: put it back (link never overwrites).
      try {
        linkSync(aside, path);
      } catch {}
      unlinkSync(aside);
      throw new SpoolLockedError(dir, moved);
    }
    unlinkSync(aside);
  }
  throw new SpoolLockedError(dir, owner(path) ?? 0);
}
