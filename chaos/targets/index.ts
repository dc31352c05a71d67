import type { Target, TargetName } from './types.js';

/** Loaded on demand: a Hopper child process need not load BullMQ, nor the reverse. */
export async function loadTarget(name: TargetName): Promise<Target> {
  if (name === 'hopper') return (await import('./hopper.js')).hopper;
  return (await import('./bullmq.js')).bullmq;
}
