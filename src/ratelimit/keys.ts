import type { Algorithm } from './types.js';

const TAGS: Record<Algorithm, string> = {
  'fixed-window': 'fw',
  'sliding-window': 'sw',
  'sliding-window-approx': 'swa',
  'token-bucket': 'tb',
  gcra: 'gcra',
};

/**
 * `{prefix}:<algorithm>:<window ms>:<key>`. One hash tag per limiter so that a batched
 * call touching many keys stays in one Cluster slot; the algorithm and window are in the
 * name so two limiters with different policies under one prefix never read each other's state.
 */
export function keyBuilder(prefix: string, algorithm: Algorithm, window: number): (key: string) => string {
  const head = `{${prefix}}:${TAGS[algorithm]}:${window}:`;
  return (key) => head + key;
}
