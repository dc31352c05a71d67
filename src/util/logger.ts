import { createRequire } from 'node:module';
import type { Logger } from 'pino';

export type { Logger };

// pino is required on the first logger made, not at import: it is a quarter of the
// package's import time, and an application passing its own logger never needs it.
const requireHere = createRequire(import.meta.url);
let pinoModule: typeof import('pino') | undefined;

/**
 * The default logger: JSON lines on stderr at HOPPER_LOG_LEVEL (default `info`).
 * Password-bearing fields are redacted by path as a second line of defence.
 */
export function defaultLogger(name: string): Logger {
  pinoModule ??= requireHere('pino') as typeof import('pino');
  const { pino } = pinoModule;
  return pino(
    {
      name,
      level: process.env.HOPPER_LOG_LEVEL ?? 'info',
      redact: { paths: ['password', '*.password', 'connection.password', 'url'], censor: '***' },
    },
    pino.destination(2),
  );
}
