import { createServer, type HopperServer, type ServerOptions } from './app.js';
import type { ServerConfig } from './config.js';

export { createServer, type HopperServer, type ServerOptions } from './app.js';
export { describeConfig, loadConfig, type ServerConfig } from './config.js';
export type { HealthBody } from './status.js';
export { parseTrackBody, type TrackEvent } from './track-schema.js';

/** createServer, wait for Redis and the database, then listen. Closes what it opened if any step fails. */
export async function startServer(config: ServerConfig, options: ServerOptions = {}): Promise<HopperServer> {
  const server = createServer(config, options);
  try {
    await server.ready();
    await server.listen();
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}
