import type { Redis } from 'ioredis';
import type { QueueKeys } from '../../queue/keys.js';

/** Workers listed per queue, at most. */
const MAX_WORKERS = 200;
/** Active entries looked at to count each worker's running jobs, at most. */
const MAX_ACTIVE_SCAN = 2000;

export interface WorkerRow {
  queue: string;
  host: string;
  pid: number;
  id: string;
  /** Lease deadline (ms): each heartbeat, fetch or settle pushes it forward. On a partitioned queue the earliest of its partitions' leases. */
  leaseUntil: number;
  /** On a partitioned queue: alive in every partition it leases. */
  alive: boolean;
  reserved: number;
  /** Jobs it holds (running and reserved), from the first MAX_ACTIVE_SCAN active entries (of each partition). */
  holding: number | null;
  /**
   * A partitioned queue's worker: the partitions it holds a lease on, of the queue's count.
   * A partitioned Worker has one id in every partition (partitions/role.ts), so it is one row
   * with its totals. Null on a plain queue.
   */
  partitions: { leased: number; of: number } | null;
}

/** A queue to list workers of: its name and its partitions' keys (one for a plain queue). */
export interface WorkerSource {
  name: string;
  parts: QueueKeys[];
}

/** Worker ids are `host:pid:random`. */
function split(id: string): { host: string; pid: number } {
  const parts = id.split(':');
  return { host: parts.slice(0, -2).join(':') || id, pid: Number(parts[parts.length - 2] ?? 0) };
}

/**
 * Workers of some queues: two commands per queue (per partition of a partitioned queue)
 * in one pipeline per hash tag (legal on Redis Cluster), all at once; for one queue a
 * bounded HSCAN of its active jobs (of each partition's). A worker seen in several
 * partitions of one queue (the same id) is one row: reserved and held jobs summed.
 */
export async function readWorkers(client: Redis, queues: WorkerSource[]): Promise<WorkerRow[]> {
  const now = Date.now();
  const reads = queues.flatMap((q) => q.parts.map((k) => ({ q, k })));
  const perPart = await Promise.all(
    reads.map(async ({ k }) => {
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
  const rows = new Map<string, WorkerRow>();
  perPart.forEach(([flat, rsv], i) => {
    const { q } = reads[i]!;
    const partitioned = q.parts.length > 1;
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const id = flat[j]!;
      const leaseUntil = Number(flat[j + 1]);
      const key = `${q.name}\0${id}`;
      const row = rows.get(key);
      if (row) {
        row.leaseUntil = Math.min(row.leaseUntil, leaseUntil);
        row.alive &&= leaseUntil > now;
        row.reserved += Number(rsv[id] ?? 0);
        if (row.partitions) row.partitions.leased++;
        continue;
      }
      rows.set(key, {
        queue: q.name,
        ...split(id),
        id: id.slice(-8),
        leaseUntil,
        alive: leaseUntil > now,
        reserved: Number(rsv[id] ?? 0),
        holding: null,
        partitions: partitioned ? { leased: 1, of: q.parts.length } : null,
      });
    }
  });
  const out = [...rows.values()];
  if (queues.length === 1 && out.length > 0) {
    const held = new Map<string, number>();
    await Promise.all(queues[0]!.parts.map((k) => countHeld(client, k, held)));
    for (const r of out) r.holding = held.get(r.id) ?? 0;
  }
  return out;
}

async function countHeld(client: Redis, k: QueueKeys, held: Map<string, number>): Promise<void> {
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
}
