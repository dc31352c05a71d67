import { Option } from 'commander';
import type { Redis, RedisOptions } from 'ioredis';
import {
  createClient,
  DEFAULT_REDIS_URL,
  describeConnection,
  parseConnection,
  resolveConnection,
} from '../redis/connection.js';
import { redactError } from '../redis/redact.js';
import { CliError, rememberSecret } from './errors.js';

/** Which Redis a command talks to, resolved once: `--url`, else REDIS_URL, else localhost. */
export interface Target {
  url: string;
  options: RedisOptions;
  /** `user@host:port/db`, safe to print. */
  label: string;
}

export const urlOption = () =>
  new Option('--url <redis-url>', `Redis URL (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`);

export const prefixOption = () =>
  new Option('--prefix <prefix>', 'key prefix of the queues').default('hopper');

export function resolveTarget(url?: string): Target {
  const chosen = url ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const options = resolveConnection(chosen);
  rememberSecret(options.password);
  return { url: chosen, options, label: describeConnection(parseConnection(chosen)) };
}

export const CONNECT_TIMEOUT_MS = 3000;

/**
 * A ready client, or a CliError naming the server and the last connection error.
 * createClient reconnects forever on its own, which suits workers; a command must
 * instead give up after a few seconds and say why.
 */
export async function connect(target: Target, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Redis> {
  const client = createClient(target.url, 'producer');
  let lastError: Error | undefined;
  // Kept for the client's whole life: without a listener ioredis prints every
  // reconnect error with its stack to the console.
  client.on('error', (err: Error) => {
    lastError = err;
  });
  const ready = await new Promise<boolean>((resolve) => {
    if (client.status === 'ready') return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (ready) return client;
  client.disconnect();
  const reason = lastError ? `: ${redactError(lastError, [target.options.password ?? '']).message}` : '';
  throw new CliError(`cannot connect to Redis at ${target.label} within ${timeoutMs / 1000} s${reason}`);
}
