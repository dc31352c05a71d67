// hopper-queue/server: the HTTP server of `hopper serve` (needs the optional peer `fastify`).
export {
  createServer,
  describeConfig,
  type HealthBody,
  type HopperServer,
  loadConfig,
  parseTrackBody,
  type ServerConfig,
  type ServerOptions,
  startServer,
  type TrackEvent,
} from '../server/index.js';
