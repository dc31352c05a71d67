import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig, type ServerConfig } from '../../src/server/index.js';
import { unique } from '../stream/helpers.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const OTHER_TOKEN = 'other-token-0123456789abcdef';
export const SESSION = '123e4567-e89b-12d3-a456-426614174000';

/** A config for one test: its own stream and group, fast flushes, auth on with TOKEN. */
export function testConfig(redisUrl: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    ...loadConfig({ REDIS_URL: redisUrl, HOPPER_API_TOKENS: `${TOKEN},${OTHER_TOKEN}` }),
    stream: unique('track'),
    group: unique('writers'),
    processInterval: 50,
    workerCount: 2,
    shutdownTimeout: 5000,
    port: 0,
    host: '127.0.0.1',
    ...overrides,
  };
}

/** A pino logger whose lines are kept in memory, to check what was (not) logged. */
export function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines, text: () => lines.join('') };
}

export function seedEvent(n: number, extra: Record<string, unknown> = {}) {
  return {
    timestamp: new Date(Date.UTC(2025, 0, 19, 10, 0, n % 60)).toISOString(),
    event_type: 'click',
    page_url: `http://example.com/p/${n}`,
    target_element: 'button',
    ...extra,
  };
}

export function trackBody(count: number, extra: Record<string, unknown> = {}) {
  return { session_id: SESSION, events: Array.from({ length: count }, (_, i) => seedEvent(i, extra)) };
}

export const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
