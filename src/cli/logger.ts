import { defaultLogger, type Logger } from '../util/logger.js';

/**
 * The library logs at `info` by default, which would interleave JSON with the
 * command's own output (and repeat durability warnings that `ping` and `demo`
 * print in plain words): commands show errors only unless the user
 * asks for more with HOPPER_LOG_LEVEL.
 */
export function cliLogger(): Logger {
  const logger = defaultLogger('hopper-cli');
  logger.level = process.env.HOPPER_LOG_LEVEL ?? 'error';
  return logger;
}
