/** The web console: a Fastify plugin, an Express handler, and the standalone server of `hopper dashboard`. */
export { type ConsoleOptions, hopperConsole } from './plugin.js';
export { consoleHandler, createConsoleServer } from './standalone.js';
