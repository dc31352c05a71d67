import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';
import type { Storage } from './storage.js';

/** The limiters' Lua scripts: `<storage>-limit` and `<storage>-peek` (docs/ratelimit.md). */
export const rateLimitScripts = loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)));

export type Operation = 'limit' | 'peek';

/**
 * A token bucket of B tokens refilled continuously is fully described by the time it will be
 * full again, which is GCRA's theoretical arrival time: both run the GCRA scripts (one number
 * of state, no parsing), under their own key tags.
 */
const SCRIPTS_OF: Partial<Record<Storage, Storage>> = { 'token-bucket': 'gcra' };

export function scriptName(storage: Storage, op: Operation): string {
  return `rl-${SCRIPTS_OF[storage] ?? storage}-${op}`;
}

// Prefixed so they never clash with another part's scripts defined on a shared client.
export const definedScripts = new Map(
  [...rateLimitScripts].map(([file, lua]) => [`rl-${file}`, lua] as const),
);
