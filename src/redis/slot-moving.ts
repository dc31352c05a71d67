import { isCluster, reconnectDelay } from './connection.js';

/**
 * How long a script call keeps being resent while its slot is moving or its master is
 * being replaced. A slot migration of one queue's keys takes seconds; past this the
 * caller sees the error (a producer must learn of an outage).
 */
export const SLOT_MOVING_MS = 20_000;

/**
 * Errors meaning Redis did not run the command, so sending it again is safe: TRYAGAIN (a
 * multi-key call on a slot whose keys are split between two nodes while it migrates),
 * ASK and MOVED (the slot's keys are elsewhere), CLUSTERDOWN (no master for the slot yet,
 * during a failover). ioredis retries these itself but gives up after `maxRedirections`
 * and reports `Too many Cluster redirections. Last error: ...`; a pipeline (script+WAIT)
 * reports them as they are.
 */
export function notRunOnCluster(err: unknown): boolean {
  const message = (err as Error | undefined)?.message ?? '';
  const last = message.startsWith('Too many Cluster redirections. Last error: ')
    ? message.slice(message.indexOf(': ') + 2).replace(/^ReplyError: /, '')
    : message;
  return /^(TRYAGAIN|ASK|MOVED|CLUSTERDOWN) /.test(last);
}

/**
 * Runs `call`; on a Cluster, resends it with backoff while it fails without having run
 * (notRunOnCluster), for at most SLOT_MOVING_MS. Other errors, and any error on a
 * single Redis, are the caller's.
 */
export async function whileSlotMoves<T>(client: unknown, call: () => Promise<T>): Promise<T> {
  if (!isCluster(client)) return call();
  const deadline = Date.now() + SLOT_MOVING_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!notRunOnCluster(err) || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, reconnectDelay(attempt, 50, 1000)));
    }
  }
}
