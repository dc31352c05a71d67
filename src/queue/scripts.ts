import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';

/** The queue's Lua scripts, one file per operation (see docs/architecture.md). */
export const queueScripts = loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)));
