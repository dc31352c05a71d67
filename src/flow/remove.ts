import type { Redis } from 'ioredis';
import { flowChildrenKey, type QueueKeys, queueKeys } from '../queue/keys.js';
import { SEP } from '../queue/record.js';
import { scriptKeys } from '../queue/script-keys.js';
import { callScript } from '../redis/scripts.js';
import { deliver } from './deliver.js';

/**
 * Removes one job, flow-aware (Queue.remove and FlowProducer.remove; docs/flows.md
 * "Removal"): flow-remove.lua on the job's queue removes it in any state but active
 * (-1), with its wait for children; if it was a flow child, its removal outcome goes
 * to its queue's outbox and is delivered to the parent here (its parent stops waiting
 * for it; if that was the last pending child, the parent runs). Then each of its
 * children, in whatever queue, is removed the same way, unlinked (not told to the
 * parent being removed), recursively. One script per queue, never two slots in one.
 * Resolves 1 removed, 0 no such job, -1 active.
 */
export async function removeFlowAware(
  client: Redis,
  prefix: string,
  queue: string,
  id: string,
  keysOf: (queue: string) => QueueKeys = (q) => queueKeys(prefix, q),
  tell = true,
): Promise<number> {
  const k = keysOf(queue);
  const [status, token, link, ...kids] = await callScript<[number, string, string, ...string[]]>(
    client,
    'flow-remove',
    scriptKeys(k, flowChildrenKey(k, id)),
    [id, tell ? '1' : '0'],
  );
  if (token) {
    const [policy, parentQueue, parentId] = link.split(SEP) as [string, string, string];
    // If this fails, a worker of `queue` delivers it from the outbox (its recovery sweep).
    await deliver(client, prefix, [
      { childQueue: queue, childId: id, token, kind: 'r', policy, parentQueue, parentId, payload: 'null' },
    ]).catch(() => {});
  }
  for (let i = 0; i < kids.length; i += 2)
    await removeFlowAware(client, prefix, kids[i]!, kids[i + 1]!, keysOf, false);
  return status;
}
