import type { Storage } from './storage.js';

const TAGS: Record<Storage, string> = {
  'fixed-window': 'fw',
  'sliding-window': 'sw',
  'sliding-window-packed': 'swl',
  'sliding-window-approx': 'swa',
  // `tbt`: the bucket as GCRA's time (see scripts.ts); `tb` held `tokens:lastUpdateUs`.
  'token-bucket': 'tbt',
  gcra: 'gcra',
};

/**
 * `{prefix}:<storage tag>:<window ms>:<key>`. One hash tag per limiter so that a batched
 * call touching many keys stays in one Cluster slot; the storage (algorithm and layout) and
 * window are in the name so two limiters with different policies under one prefix never read
 * each other's state.
 */
export function keyBuilder(prefix: string, storage: Storage, window: number): (key: string) => string {
  const head = `{${prefix}}:${TAGS[storage]}:${window}:`;
  return (key) => head + key;
}
