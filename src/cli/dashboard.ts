import { Command } from 'commander';
import { urlPassword } from '../redis/redact.js';
import { loadConfig } from '../server/config.js';
import { defaultLogger } from '../util/logger.js';
import { requireOptional } from '../util/optional.js';
import { rememberSecret } from './errors.js';

/** `hopper dashboard`: the web console on its own, configured by the same environment as `hopper serve`. */
async function dashboard(): Promise<void> {
  const config = loadConfig();
  for (const t of config.tokens) rememberSecret(t.secret);
  if (config.redisUrl) rememberSecret(urlPassword(config.redisUrl));
  const logger = defaultLogger('hopper:console');
  // Fastify is an optional peer: loaded for this command only, with a clear error when missing.
  requireOptional('fastify', 'The web console (`hopper dashboard`)');
  const { createConsoleServer } = await import('../console/standalone.js');
  const app = createConsoleServer(config, logger);
  const address = await app.listen({ host: config.host, port: config.port });
  const path = config.dashboardPath ?? '/dashboard';
  logger.info({ address: `${address}${path}/` }, `Hopper console on ${address}${path}/`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
}

export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description(
      'run the web console alone (same configuration as serve: REDIS_URL, HOPPER_TOKENS, PORT, HOPPER_DASHBOARD_PATH)',
    )
    .action(dashboard);
}
