import type { Redis } from 'ioredis';
import { flowChildrenKey, type QueueKeys, queueKeys } from '../queue/keys.js';
import { SEP } from '../queue/record.js';
import { DEFAULT_KEEP_FAILED, retentionArgs } from '../queue/retention.js';
import { scriptKeys } from '../queue/script-keys.js';
import { callScript } from '../redis/scripts.js';

/** One child outcome on its way from the child's queue outbox to its parent's queue. */
export interface Delivery {
  childQueue: string;
  childId: string;
  /** The child queue's lease token of the attempt (or the removal's sequence number). */
  token: string;
  kind: 'c' | 'f' | 'r';
  policy: string;
  parentQueue: string;
  parentId: string;
  /** Result or error JSON. */
  payload: string;
}

const PER_CALL = 500;
const [KEEP_AGE, KEEP_COUNT] = retentionArgs(DEFAULT_KEEP_FAILED);

/** An outbox entry as settle.lua writes it: token, kind, policy, parent queue, parent id, payload. */
export function parseEntry(childQueue: string, childId: string, entry: string): Delivery | undefined {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < 5; i++) {
    const at = entry.indexOf(SEP, from);
    if (at < 0) return undefined;
    parts.push(entry.slice(from, at));
    from = at + 1;
  }
  const [token, kind, policy, parentQueue, parentId] = parts as [
    string,
    Delivery['kind'],
    string,
    string,
    string,
  ];
  return { childQueue, childId, token, kind, policy, parentQueue, parentId, payload: entry.slice(from) };
}

function byKey<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of list) {
    const k = key(t);
    const l = out.get(k);
    if (l) l.push(t);
    else out.set(k, [t]);
  }
  return out;
}

/**
 * Delivers outcomes: one flow-deliver.lua call per parent queue (that queue's slot
 * only), then, once every parent queue confirmed, one flow-ack.lua call per child
 * queue deletes the outbox entries. A crash or error between the two leaves the
 * entries for the recovery sweep; delivering twice changes nothing (docs/flows.md).
 */
export async function deliver(client: Redis, prefix: string, list: Delivery[]): Promise<void> {
  const keysOf = new Map<string, QueueKeys>();
  const keys = (q: string) => {
    let k = keysOf.get(q);
    if (!k) {
      k = queueKeys(prefix, q);
      keysOf.set(q, k);
    }
    return k;
  };
  await Promise.all(
    [...byKey(list, (d) => d.parentQueue)].map(async ([queue, all]) => {
      const pk = keys(queue);
      for (let i = 0; i < all.length; i += PER_CALL) {
        const part = all.slice(i, i + PER_CALL);
        const args: (string | number)[] = [part.length, KEEP_AGE, KEEP_COUNT];
        for (const d of part)
          args.push(d.parentId, `${d.childQueue}${SEP}${d.childId}`, d.token, d.kind, d.policy, d.payload);
        const extra = part.map((d) => flowChildrenKey(pk, d.parentId));
        await callScript<number>(client, 'flow-deliver', scriptKeys(pk, ...extra), args);
      }
    }),
  );
  await Promise.all(
    [...byKey(list, (d) => d.childQueue)].map(async ([queue, all]) => {
      for (let i = 0; i < all.length; i += PER_CALL) {
        const args = all.slice(i, i + PER_CALL).flatMap((d) => [d.childId, d.token]);
        await callScript<number>(client, 'flow-ack', scriptKeys(keys(queue)), args);
      }
    }),
  );
}
