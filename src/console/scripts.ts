import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';

/** The console's own read-only Lua scripts (bounded lookups; see docs/console.md). */
export const consoleScripts = loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)));
