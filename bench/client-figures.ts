/** What a client-measure child prints and bench/client-choice.ts reads. */
import type { ClientName } from './clients.js';

export const CLIENT_CASES = ['ping', 'set', 'evalsha', 'pipeline', 'multi'] as const;
export type ClientCase = (typeof CLIENT_CASES)[number];

export interface ClientFigures {
  client: ClientName;
  case: ClientCase;
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** CPU of the Node process (user + system) per command, µs. */
  nodeUsPerOp: number;
  /** CPU of redis-server per command, µs. */
  redisUsPerOp: number;
}
