import type { Redis } from 'ioredis';
import { flowChildrenKey, type QueueKeys } from '../../queue/keys.js';
import { SEP } from '../../queue/record.js';

/** Children listed in a job's detail, at most (a flow parent may have 1,000). */
export const MAX_CHILDREN_SHOWN = 200;

const CHILD_STATES: Record<string, string> = {
  p: 'pending',
  c: 'completed',
  x: 'failed',
  f: 'failed',
  i: 'failed',
  r: 'removed',
};

export interface FlowLink {
  queue: string;
  id: string;
  /** The parent's state (getJob), or a child's outcome as its parent recorded it. */
  state: string;
}

export interface JobFlow {
  parent?: FlowLink & { onFailure: string };
  children: FlowLink[];
  /** Children the parent has, of which `children` lists the first MAX_CHILDREN_SHOWN. */
  childrenTotal: number;
}

/**
 * A job's place in a flow (src/flow): its parent link (`fparent`, in the job's queue) and
 * its children hash (in its own queue's hash tag). Two commands in one pipeline of the
 * job's queue (one hash tag), plus an HSCAN step of at most MAX_CHILDREN_SHOWN children;
 * the parent's state is read by the caller. Null when the job is in no flow. `shown` names
 * a queue as users know it (a partition's name `q#k` as `q`).
 */
export async function readFlow(
  client: Redis,
  k: QueueKeys,
  id: string,
  shown: (queue: string) => string = (q) => q,
): Promise<JobFlow | null> {
  const kidsKey = flowChildrenKey(k, id);
  const replies = (await client.pipeline().hget(k.fparent, id).hlen(kidsKey).exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const link = replies[0]![1] as string | null;
  const total = Number(replies[1]![1]);
  if (!link && total === 0) return null;
  const flow: JobFlow = { children: [], childrenTotal: total };
  if (link) {
    const [onFailure, queue, parentId] = link.split(SEP) as [string, string, string];
    flow.parent = { queue: shown(queue), id: parentId, state: 'unknown', onFailure };
  }
  if (total > 0) {
    let cursor = '0';
    do {
      const [next, flat] = await client.hscan(kidsKey, cursor, 'COUNT', MAX_CHILDREN_SHOWN);
      for (let i = 0; i + 1 < flat.length && flow.children.length < MAX_CHILDREN_SHOWN; i += 2) {
        const ref = flat[i]!;
        const value = flat[i + 1]!;
        const at = ref.indexOf(SEP);
        const code = value.charAt(value.indexOf(SEP) + 1);
        flow.children.push({
          queue: shown(ref.slice(0, at)),
          id: ref.slice(at + 1),
          state: CHILD_STATES[code] ?? 'pending',
        });
      }
      cursor = next;
    } while (cursor !== '0' && flow.children.length < MAX_CHILDREN_SHOWN);
  }
  return flow;
}
