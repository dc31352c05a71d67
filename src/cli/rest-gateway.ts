import { Command } from 'commander';
import { redactUrl, urlPassword } from '../redis/redact.js';
import { requireOptional } from '../util/optional.js';
import { rememberSecret } from './errors.js';

interface Options {
  url?: string;
  port: string;
  host: string;
}

/**
 * `hopper rest-gateway`: Upstash's REST protocol in front of any Redis (REDIS_URL or
 * --url), for development and CI without Docker. Tokens from HOPPER_GATEWAY_TOKENS.
 */
async function run(opts: Options): Promise<void> {
  // Fastify is an optional peer: loaded for this command only, with a clear error when missing.
  requireOptional('fastify', 'The REST gateway (`hopper rest-gateway`)');
  const { createRestGateway, gatewayConfigFromEnv } = await import('../gateway/index.js');
  const config = gatewayConfigFromEnv();
  for (const t of config.tokens) rememberSecret(t);
  const redisUrl = opts.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  rememberSecret(urlPassword(redisUrl));
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
  const gateway = createRestGateway(redisUrl, config);
  const url = await gateway.listen(port, opts.host);
  // The URL only: never the tokens.
  process.stdout.write(`hopper rest-gateway on ${url} -> ${redactUrl(redisUrl)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await gateway.close();
}

export function restGatewayCommand(): Command {
  return new Command('rest-gateway')
    .description("serve Upstash's REST protocol in front of a Redis (tokens in HOPPER_GATEWAY_TOKENS)")
    .option('--url <redis-url>', 'the Redis to front (default REDIS_URL, else redis://127.0.0.1:6379)')
    .option('--port <port>', 'port to listen on', '8079')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(run);
}
