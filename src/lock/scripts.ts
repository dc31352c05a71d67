import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';

/**
 * The lock's Lua scripts (acquire, renew, release), one file per operation. They are
 * defined under prefixed names so they cannot clash with ioredis methods or with
 * other parts' scripts on a shared client.
 */
export const lockScripts = new Map(
  [...loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)))].map(([name, lua]) => [
    `hopperLock_${name}`,
    lua,
  ]),
);

export const lockScriptName = {
  acquire: 'hopperLock_acquire',
  renew: 'hopperLock_renew',
  release: 'hopperLock_release',
} as const;
