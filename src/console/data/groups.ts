import type { Redis } from 'ioredis';
import type { QueueKeys } from '../../queue/keys.js';
import { ValidationError } from '../../util/errors.js';

export interface GroupRow {
  name: string;
  waiting: number;
  active: number;
  paused: boolean;
  /** Its own limits, `concurrency,max,duration` as stored (empty field: the queue's default). */
  limits: string | null;
}

/**
 * One HSCAN step of the groups' counters: a page of groups per request, from a cursor.
 * `parts`: the queue's keys, or a partitioned queue's partitions' keys. A group lives in
 * one partition, so a partitioned queue's page is one step of every partition not yet
 * done (all at once, each on its own hash tag) merged: its cursor is the partitions'
 * cursors joined by commas, `x` for a partition scanned to its end.
 */
export async function readGroups(
  client: Redis,
  parts: QueueKeys | QueueKeys[],
  cursor: unknown,
): Promise<{ groups: GroupRow[]; cursor: string | null }> {
  const all = Array.isArray(parts) ? parts : [parts];
  const starts = parseCursor(cursor, all.length);
  const pages = await Promise.all(
    all.map((k, i) => (starts[i] === 'x' ? null : readStep(client, k, starts[i]!))),
  );
  const groups = pages.flatMap((p) => p?.groups ?? []).sort((a, b) => a.name.localeCompare(b.name));
  const nexts = pages.map((p) => (p === null || p.next === '0' ? 'x' : p.next));
  const done = nexts.every((c) => c === 'x');
  return { groups, cursor: done ? null : all.length === 1 ? nexts[0]! : nexts.join(',') };
}

/** A plain queue's cursor is HSCAN's; a partitioned queue's, one per partition (`x`: done). */
function parseCursor(cursor: unknown, n: number): string[] {
  if (cursor === undefined) return Array.from({ length: n }, () => '0');
  const parts = typeof cursor === 'string' ? cursor.split(',') : [];
  const ok = (c: string) => /^\d{1,20}$/.test(c) || (n > 1 && c === 'x');
  if (parts.length !== n || !parts.every(ok))
    throw new ValidationError('cursor', 'must be the cursor a previous page returned');
  return parts;
}

async function readStep(client: Redis, k: QueueKeys, start: string) {
  const [next, flat] = await client.hscan(k.gcount, start, 'COUNT', 300);
  const byName = new Map<string, GroupRow>();
  const get = (name: string) => {
    let g = byName.get(name);
    if (!g) {
      g = { name, waiting: 0, active: 0, paused: false, limits: null };
      byName.set(name, g);
    }
    return g;
  };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i]!;
    const kind = field.slice(0, 2);
    const name = field.slice(2);
    if (kind === 'w:') get(name).waiting = Number(flat[i + 1]);
    else if (kind === 'a:') get(name).active = Number(flat[i + 1]);
    else if (kind === 'p:') get(name).paused = true;
    else if (kind === 'h:' || kind === 'r:') get(name);
  }
  const groups = [...byName.values()];
  if (groups.length > 0) {
    const limits = await client.hmget(k.gconf, ...groups.map((g) => `limit:${g.name}`));
    groups.forEach((g, i) => {
      g.limits = limits[i] ?? null;
    });
  }
  return { groups, next };
}
