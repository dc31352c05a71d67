import { Command } from 'commander';
import { urlPassword } from '../redis/redact.js';
import { serveCluster } from '../server/cluster.js';
import { loadConfig } from '../server/config.js';
import { startServer } from '../server/index.js';
import { serveUntilStopped } from '../server/shutdown.js';
import { defaultLogger } from '../util/logger.js';
import { rememberSecret } from './errors.js';

/**
 * `hopper serve`: the HTTP ingestion server plus the stream processor, configured by
 * environment (see docs/streams.md); with HTTP_WORKERS above 1, that many HTTP processes
 * and the processor in the primary (cluster.ts). Runs until SIGINT/SIGTERM, then shuts
 * down gracefully.
 */
async function serve(): Promise<void> {
  const config = loadConfig();
  // Redacted from any error the CLI prints.
  for (const t of config.tokens) rememberSecret(t.secret);
  for (const t of config.metricsTokens) rememberSecret(t);
  for (const url of [config.redisUrl, config.databaseUrl]) if (url) rememberSecret(urlPassword(url));
  const logger = defaultLogger('hopper:server');
  if (config.httpWorkers > 1) return serveCluster(config, logger);
  await serveUntilStopped(startServer(config, { logger }), logger);
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the HTTP ingestion server (POST /api/v1/track, GET /health) and the stream processor')
    .action(serve);
}
