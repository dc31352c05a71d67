import type { Answer, MemoryLimiter } from './memory.js';
import type { LimiterConfig } from './validate.js';

/**
 * The answer when Redis cannot give one. 'closed' asks to retry after a second (or the
 * window, if shorter): the soonest a reconnect is likely, not a promise.
 */
export function fallbackAnswer(
  config: LimiterConfig,
  memory: MemoryLimiter | undefined,
  key: string,
  cost: number,
  write: boolean,
): Answer {
  if (memory) return memory.check(key, cost, write);
  if (config.onRedisError === 'open') return [1, config.limit, 0, 0];
  const retry = Math.min(config.window, 1000);
  return [0, 0, retry, retry];
}
