import type { Redis } from 'ioredis';
import { flowChildrenKey, type QueueKeys } from '../queue/keys.js';
import { SEP } from '../queue/record.js';
import type { JobError } from '../queue/types.js';
import { showChildNames } from './names.js';
import type { FlowChild } from './types.js';

const STATES: Record<string, FlowChild['state']> = {
  p: 'pending',
  c: 'completed',
  x: 'failed',
  f: 'failed',
  r: 'removed',
};
const POLICY = { x: 'fail', f: 'continue' } as const;

/**
 * A parent's children as flow-deliver.lua recorded them: one HGETALL of the parent's
 * children hash. Children that failed under the `ignore` policy are left out. A child
 * in a partition is listed under its partitioned queue's name (one more read, names.ts).
 */
export async function readChildren(
  client: Redis,
  keys: QueueKeys,
  parentId: string,
  prefix: string,
): Promise<FlowChild[]> {
  const hash = await client.hgetall(flowChildrenKey(keys, parentId));
  const out: FlowChild[] = [];
  for (const [ref, value] of Object.entries(hash)) {
    const at = ref.indexOf(SEP);
    const first = value.indexOf(SEP);
    const code = value.slice(first + 1, first + 2);
    if (code === 'i') continue;
    const payload = value.slice(first + 3);
    const child: FlowChild = {
      queue: ref.slice(0, at),
      id: ref.slice(at + 1),
      state: STATES[code] ?? 'pending',
    };
    if (code === 'c') child.result = JSON.parse(payload);
    if (code === 'x' || code === 'f') {
      child.error = JSON.parse(payload) as JobError;
      child.onFailure = POLICY[code];
    }
    out.push(child);
  }
  await showChildNames(client, prefix, out);
  return out;
}

/** The completed children's results by child id (a fan-in's inputs). */
export function childValues(children: FlowChild[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of children) if (c.state === 'completed') out[c.id] = c.result;
  return out;
}
