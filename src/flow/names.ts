import type { Redis } from 'ioredis';
import { logicalNamer } from '../queue/partitions/registry.js';
import type { JobError, JobInfo } from '../queue/types.js';
import { type FlowChild, type FlowParentRef, MAX_DEPTH } from './types.js';

/**
 * Flows keep their links by the queue a job is stored in: for a partitioned queue, the
 * partition's name `name#k` (docs/flows.md, "Partitioned queues"). What users read says
 * the partitioned queue's name instead; these helpers rename in place what a read returns.
 */

interface ChildFailure extends JobError {
  child: { queue: string; id: string; error?: unknown };
}

function isChildFailure(e: unknown): e is ChildFailure {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as JobError).name === 'ChildFailedError' &&
    typeof (e as ChildFailure).child?.queue === 'string'
  );
}

/** A ChildFailedError and those nested in it (a grandchild failed its child, and so on). */
function failures(e: unknown): ChildFailure[] {
  const out: ChildFailure[] = [];
  for (let at = e; isChildFailure(at) && out.length <= MAX_DEPTH; at = at.child.error) out.push(at);
  return out;
}

function rename(f: ChildFailure, shown: (name: string) => string): void {
  const from = f.child.queue;
  const to = shown(from);
  if (to === from) return;
  f.child.queue = to;
  const head = `child ${from}/`;
  if (typeof f.message === 'string' && f.message.startsWith(head))
    f.message = `child ${to}/${f.message.slice(head.length)}`;
}

async function renameAll(
  client: Redis,
  prefix: string,
  names: string[],
  apply: (shown: (name: string) => string) => void,
): Promise<void> {
  if (!names.some((n) => n.includes('#'))) return;
  apply(await logicalNamer(client, prefix, names));
}

/** A job read by getJob: its parent link (`opts.parent`) and ChildFailedErrors name logical queues. */
export async function showLogicalNames(client: Redis, prefix: string, info: JobInfo): Promise<void> {
  const parent = (info.opts as { parent?: FlowParentRef }).parent;
  const errs = [info.error, ...(info.errors ?? []).map((a) => a.error)].flatMap(failures);
  const names = errs.map((f) => f.child.queue);
  if (typeof parent?.queue === 'string') names.push(parent.queue);
  await renameAll(client, prefix, names, (shown) => {
    // A copy: decoded options are shared by the jobs that have the same ones (record.ts caches them).
    if (typeof parent?.queue === 'string')
      info.opts = { ...info.opts, parent: { ...parent, queue: shown(parent.queue) } } as typeof info.opts;
    for (const f of errs) rename(f, shown);
  });
}

/** A parent's children (`job.children()`, getChildren): their queues and errors name logical queues. */
export async function showChildNames(client: Redis, prefix: string, children: FlowChild[]): Promise<void> {
  const errs = children.flatMap((c) => failures(c.error));
  const names = [...children.map((c) => c.queue), ...errs.map((f) => f.child.queue)];
  await renameAll(client, prefix, names, (shown) => {
    for (const c of children) c.queue = shown(c.queue);
    for (const f of errs) rename(f, shown);
  });
}
