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

/** One HSCAN step of the groups' counters: a page of groups per request, from a cursor. */
export async function readGroups(
  client: Redis,
  k: QueueKeys,
  cursor: unknown,
): Promise<{ groups: GroupRow[]; cursor: string | null }> {
  const start = cursor === undefined ? '0' : cursor;
  if (typeof start !== 'string' || !/^\d{1,20}$/.test(start))
    throw new ValidationError('cursor', 'must be the cursor a previous page returned');
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
  const groups = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (groups.length > 0) {
    const limits = await client.hmget(k.gconf, ...groups.map((g) => `limit:${g.name}`));
    groups.forEach((g, i) => {
      g.limits = limits[i] ?? null;
    });
  }
  return { groups, cursor: next === '0' ? null : next };
}
