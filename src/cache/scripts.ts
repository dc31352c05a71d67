import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';

/**
 * The cache's Lua scripts, one file per operation; every key each one touches is in KEYS.
 * Defined as `cache:<file>` because ioredis' defineCommand would otherwise replace built-in
 * methods of the same name (a script `get.lua` would shadow `client.get`).
 */
export const cacheScripts = new Map(
  [...loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)))].map(([name, lua]) => [
    `cache:${name}`,
    lua,
  ]),
);
