import { ValidationError } from '../../util/errors.js';

/**
 * What a WebSocket client sends: one JSON object per message. `ref` (optional, echoed in
 * the reply) lets a client match replies to requests.
 *
 *   { "op": "subscribe",   "channel": "prices.*", "pattern": true }   scope read
 *   { "op": "unsubscribe", "channel": "prices.*", "pattern": true }
 *   { "op": "publish",     "channel": "prices.btc", "message": {...} } scope submit
 *   { "op": "watch",       "queue": "rebalance", "jobId": "42" }       scope submit (own jobs) or admin
 *   { "op": "unwatch",     "queue": "rebalance", "jobId": "42" }
 */
export type ClientMessage =
  | { op: 'subscribe' | 'unsubscribe'; channel: string; pattern: boolean; ref?: string }
  | { op: 'publish'; channel: string; message: unknown; ref?: string }
  | { op: 'watch' | 'unwatch'; queue: string; jobId: string; ref?: string };

const OPS = ['subscribe', 'unsubscribe', 'publish', 'watch', 'unwatch'];

function str(o: Record<string, unknown>, field: string, max: number): string {
  const v = o[field];
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new ValidationError(field, `must be a non-empty string of at most ${max} characters`);
  return v;
}

/** The message, checked; a ValidationError naming the field otherwise (answered as an error, the socket stays). */
export function parseClientMessage(text: string): ClientMessage {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new ValidationError('message', 'must be a JSON object');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new ValidationError('message', 'must be a JSON object');
  const m = o as Record<string, unknown>;
  if (typeof m.op !== 'string' || !OPS.includes(m.op))
    throw new ValidationError('op', `must be one of ${OPS.join(', ')}`);
  const ref = m.ref === undefined ? undefined : str(m, 'ref', 128);
  if (m.op === 'watch' || m.op === 'unwatch')
    return { op: m.op, queue: str(m, 'queue', 200), jobId: str(m, 'jobId', 256), ref };
  const channel = str(m, 'channel', 1024);
  if (m.op === 'publish') {
    if (m.message === undefined) throw new ValidationError('message', 'is required');
    return { op: 'publish', channel, message: m.message, ref };
  }
  if (m.pattern !== undefined && typeof m.pattern !== 'boolean')
    throw new ValidationError('pattern', 'must be a boolean');
  return { op: m.op as 'subscribe' | 'unsubscribe', channel, pattern: m.pattern === true, ref };
}
