/**
 * The server under test for the submit benchmark, in its own process so autocannon does
 * not share its event loop: `createServer` as `hopper serve` builds it (no stream
 * processor: the jobs API is what is measured), one configured queue, the per-token
 * limit still checked on every request but set high enough never to refuse. Prints
 * `{"port":n}` once listening.
 */
import { pino } from 'pino';
import { createServer, loadConfig } from '../../src/server/index.js';

const config = loadConfig({
  ...process.env,
  HOPPER_API_TOKENS: process.env.BENCH_TOKEN ?? '',
  PORT: '0',
  HOST: '127.0.0.1',
  HOPPER_PROCESSOR: 'off',
  HOPPER_QUEUES: 'bench',
  HOPPER_SUBMIT_LIMIT: '1000000000',
});
const server = createServer(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
await server.ready();
await server.listen();
process.stdout.write(`${JSON.stringify({ port: (server.app.server.address() as { port: number }).port })}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
