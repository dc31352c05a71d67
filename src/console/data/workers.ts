import type { Redis } from 'ioredis';
import { type QueueKeys, queueKeys } from '../../queue/keys.js';

/** Workers listed per queue, at most. */
const MAX_WORKERS = 200;
/** Active entries looked at to count each worker's running jobs, at most. */
const MAX_ACTIVE_SCAN = 2000;

export interface WorkerRow {
  queue: string;
  host: string;
  pid: number;
  id: string;
  /** Lease deadline (ms): each heartbeat, fetch or settle pushes it forward. */
  leaseUntil: number;
  alive: boolean;
  reserved: number;
  /** Jobs it holds (running and reserved), from the first MAX_ACTIVE_SCAN active entries. */
  holding: number | null;
}

/** Worker ids are `host:pid:random`. */
function split(id: string): { host: string; pid: number } {
  const parts = id.split(':');
  return { host: parts.slice(0, -2).join(':') || id, pid: Number(parts[parts.length - 2] ?? 0) };
}

/**
 * Workers of some queues: two commands per queue in one pipeline per queue (its hash tag:
 * legal on Redis Cluster), all queues at once; for one queue a bounded HSCAN of its active jobs.
 */
export async function readWorkers(client: Redis, prefix: string, names: string[]): Promise<WorkerRow[]> {
  const now = Date.now();
  const keys = names.map((n) => queueKeys(prefix, n));
  const perQueue = await Promise.all(
    keys.map(async (k) => {
      const replies =
        (await client
          .pipeline()
          .zrevrange(k.workers, 0, MAX_WORKERS - 1, 'WITHSCORES')
          .hgetall(k.reserved)
          .exec()) ?? [];
      const [e1, list] = replies[0]!;
      const [e2, reserved] = replies[1]!;
      if (e1 || e2) throw e1 ?? e2;
      return [list as string[], reserved as Record<string, string>] as const;
    }),
  );
  const rows: WorkerRow[] = [];
  perQueue.forEach(([flat, rsv], i) => {
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const id = flat[j]!;
      const leaseUntil = Number(flat[j + 1]);
      rows.push({
        queue: names[i]!,
        ...split(id),
        id: id.slice(-8),
        leaseUntil,
        alive: leaseUntil > now,
        reserved: Number(rsv[id] ?? 0),
        holding: null,
      });
    }
  });
  if (names.length === 1 && rows.length > 0) await countHeld(client, keys[0]!, rows);
  return rows;
}

async function countHeld(client: Redis, k: QueueKeys, rows: WorkerRow[]): Promise<void> {
  const held = new Map<string, number>();
  let cursor = '0';
  let seen = 0;
  do {
    const [next, flat] = await client.hscan(k.active, cursor, 'COUNT', 500);
    for (let i = 1; i < flat.length; i += 2) {
      // token|workerId|startedAt
      const v = flat[i]!;
      const w = v.slice(v.indexOf('|') + 1, v.lastIndexOf('|'));
      held.set(w.slice(-8), (held.get(w.slice(-8)) ?? 0) + 1);
    }
    seen += flat.length / 2;
    cursor = next;
  } while (cursor !== '0' && seen < MAX_ACTIVE_SCAN);
  for (const r of rows) r.holding = held.get(r.id) ?? 0;
}
