import keySlot from 'cluster-key-slot';

/**
 * Items grouped by the Cluster slot of their key, in their order: on a Cluster one
 * script call or pipeline may only touch one slot, so batches are made per slot.
 */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = keySlot(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}
