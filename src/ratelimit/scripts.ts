import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';
import type { Algorithm } from './types.js';

/** The limiters' Lua scripts: `<algorithm>-limit` and `<algorithm>-peek` (docs/ratelimit.md). */
export const rateLimitScripts = loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)));

export type Operation = 'limit' | 'peek';

export function scriptName(algorithm: Algorithm, op: Operation): string {
  return `rl-${algorithm}-${op}`;
}

// Prefixed so they never clash with another part's scripts defined on a shared client.
export const definedScripts = new Map(
  [...rateLimitScripts].map(([file, lua]) => [`rl-${file}`, lua] as const),
);
