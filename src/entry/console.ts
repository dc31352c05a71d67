// hopper-queue/console: the web dashboard as a Fastify plugin, an Express handler or a server of its own (needs `fastify`).
export { type ConsoleOptions, consoleHandler, createConsoleServer, hopperConsole } from '../console/index.js';
