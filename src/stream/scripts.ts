import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';

/** The stream's Lua scripts, one file per operation (see docs/streams.md). */
export const streamScripts = loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)));
