import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';

/**
 * The flow scripts, one file per operation. They work on the queue's keys with the
 * queue's helpers (keys, groups, retention), so they include from the queue's folder.
 */
export const flowScripts = loadScripts(
  fileURLToPath(new URL('./scripts/', import.meta.url)),
  fileURLToPath(new URL('../queue/scripts/includes/', import.meta.url)),
);
