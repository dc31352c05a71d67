import type { JobError, JobOptions } from '../queue/types.js';

/**
 * What a child's failure (for good: no attempts left) does to its parent:
 * - `fail` (default): the parent fails with a ChildFailedError naming the child; retrying
 *   the child and its completing puts the parent back (waiting for children, or in line).
 * - `continue`: the parent runs once all children are done, and sees the failure in `children()`.
 * - `ignore`: the parent runs once all children are done, as if the child were not there.
 */
export type FailurePolicy = 'fail' | 'continue' | 'ignore';

/** One job of a flow: a tree of jobs across queues, children before their parent. */
export interface FlowJob<D = unknown> {
  name: string;
  /** Queue the job runs in; any queue of the producer's prefix. */
  queue: string;
  data?: D;
  /**
   * Job options, except `dedup`; a job with children may not have a `delay`. `jobId` is the
   * job's id; a child without one gets `<parent id>/<index>`, a root without one a random id.
   */
  opts?: JobOptions;
  /** Jobs that must finish before this one runs (at most MAX_CHILDREN). */
  children?: FlowJob[];
  /** What this job's failure does to its parent. Default `fail`. */
  onFailure?: FailurePolicy;
}

/** The ids a flow's jobs got, in the shape of the tree added. */
export interface FlowNodeIds {
  queue: string;
  id: string;
  /** True when the job was added by this call, false when it was there already. */
  added: boolean;
  children: FlowNodeIds[];
}

/** A child's outcome as its parent sees it (`job.children()`). */
export interface FlowChild {
  queue: string;
  id: string;
  state: 'pending' | 'completed' | 'failed' | 'removed';
  /** The child's return value, when completed. */
  result?: unknown;
  /** The child's last error, when failed. */
  error?: JobError;
  onFailure?: FailurePolicy;
}

/** The link a flow child's options carry to its parent (set by FlowProducer, never by add). */
export interface FlowParentRef {
  queue: string;
  id: string;
  onFailure: FailurePolicy;
}

/** Deepest a flow may go (a root alone is depth 1). */
export const MAX_DEPTH = 16;
/** Most children one job may have. */
export const MAX_CHILDREN = 1000;
/** Most jobs one flow may hold. */
export const MAX_FLOW_JOBS = 10_000;
