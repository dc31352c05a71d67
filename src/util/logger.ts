import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * The default logger: JSON lines on stderr at HOPPER_LOG_LEVEL (default `info`).
 * Password-bearing fields are redacted by path as a second line of defence.
 */
export function defaultLogger(name: string): Logger {
  return pino(
    {
      name,
      level: process.env.HOPPER_LOG_LEVEL ?? 'info',
      redact: { paths: ['password', '*.password', 'connection.password', 'url'], censor: '***' },
    },
    pino.destination(2),
  );
}
