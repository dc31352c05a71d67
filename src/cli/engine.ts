import type { JobCounts } from '../queue/types.js';

/**
 * The queue engine, loaded only by the commands that use it: `hopper ping`, the
 * first thing to run when something is wrong, then does not depend on the
 * engine (and its Lua scripts) loading.
 */
export const loadEngine = () => import('../index.js');

export const STATES = [
  'waiting',
  'delayed',
  'active',
  'reserved',
  'completed',
  'failed',
] as const satisfies readonly (keyof JobCounts)[];

export const totalJobs = (counts: JobCounts): number => STATES.reduce((sum, state) => sum + counts[state], 0);
