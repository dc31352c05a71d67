import type { Job } from '../queue/types.js';
import { childValues } from './children.js';
import type { FlowJob } from './types.js';

type Step<D> = Omit<FlowJob<D>, 'children'>;

/**
 * A chain: `steps[0]` runs first, then `steps[1]` and so on, each after the one before
 * completed, each reading the result before it with `previousResult(job)`. Built as a
 * flow whose root is the last step (one child per level), so it has the flow's
 * guarantees; at most MAX_DEPTH steps.
 */
export function chain<D = unknown>(steps: Step<D>[]): FlowJob<D> {
  if (!Array.isArray(steps) || steps.length === 0)
    throw new TypeError('chain: steps must be a non-empty array');
  let flow: FlowJob<D> | undefined;
  for (const step of steps) flow = flow ? { ...step, children: [flow] } : { ...step };
  return flow!;
}

/**
 * A fan-in: `sink` runs once every job of `sources` is done (under each source's
 * `onFailure`), and reads their results with `job.children()` or `childValues`.
 */
export function fanIn<D = unknown>(sources: FlowJob<D>[], sink: Step<D>): FlowJob<D> {
  return { ...sink, children: sources };
}

/** The result of the step before this one in a chain (undefined for the first step). */
export async function previousResult<R = unknown>(job: Job): Promise<R | undefined> {
  const values = Object.values(childValues(await job.children()));
  return values[0] as R | undefined;
}
