import { randomUUID } from 'node:crypto';
import { encodeRecord, SEP } from '../queue/record.js';
import type { JobOptions } from '../queue/types.js';
import { serializeData, validateJobOptions, validateName, validateQueueName } from '../queue/validate.js';
import { ValidationError } from '../util/errors.js';
import {
  type FailurePolicy,
  type FlowJob,
  type FlowNodeIds,
  type FlowParentRef,
  MAX_CHILDREN,
  MAX_DEPTH,
  MAX_FLOW_JOBS,
} from './types.js';

/** One job of a flow, checked and encoded for flow-add.lua. */
export interface PlannedJob {
  /** The queue it is stored in: its partition's (`name#k`) for a partitioned queue. */
  queue: string;
  id: string;
  record: string;
  priority: number;
  delay: number;
  group: string;
  /** '' for a root, else `policy SEP parent queue SEP parent id` (fparent). */
  link: string;
  /** Children as queue, id pairs (empty for a leaf). */
  children: string[];
  /**
   * Its place in the order of writes: a job is written in a later wave than its
   * parent when their queues differ, in the same wave (and call, after it) when not.
   */
  wave: number;
  node: FlowNodeIds;
}

/**
 * The queue a job is stored in, given its queue, id and group: the queue itself, or for a
 * partitioned queue the partition it goes to (producer.ts). Throws an Error whose message
 * explains a queue that cannot take flow jobs.
 */
export type Placer = (queue: string, id: string, group: string | undefined) => string;

const POLICIES: FailurePolicy[] = ['fail', 'continue', 'ignore'];
let now = Date.now();
const NODE_KEYS = new Set(['name', 'queue', 'data', 'opts', 'children', 'onFailure']);

/**
 * Checks a whole flow before anything is written (a ValidationError names the field,
 * e.g. `flow.children[2].opts.delay`) and lists its jobs parents first.
 */
export function planFlow(
  flow: unknown,
  at: string,
  maxPayloadBytes: number,
  out: PlannedJob[],
  place: Placer = (queue) => queue,
): FlowNodeIds {
  now = Date.now(); // one add time for the flow's jobs
  const start = out.length;
  const root = planNode(
    flow,
    at,
    { maxBytes: maxPayloadBytes, out, seen: new Set(), opts: new Map(), place },
    undefined,
    1,
  );
  if (out.length - start > MAX_FLOW_JOBS)
    throw new ValidationError(at, `holds ${out.length - start} jobs, over the limit of ${MAX_FLOW_JOBS}`);
  return root.node;
}

/** What one flow's planning shares: its jobs, the ids seen, options checked once per object. */
interface Planning {
  maxBytes: number;
  out: PlannedJob[];
  seen: Set<string>;
  opts: Map<unknown, JobOptions>;
  place: Placer;
}

interface ParentContext {
  /** The queue it is stored in (a partition's, for a partitioned queue). */
  queue: string;
  id: string;
  wave: number;
  index: number;
  /** Stored options JSON of its children, by their options object and policy: siblings usually share one. */
  stored: Map<unknown, { policy: FailurePolicy; json: string }>;
}

function planNode(
  v: unknown,
  at: string,
  p: Planning,
  parent: ParentContext | undefined,
  depth: number,
): PlannedJob {
  const { maxBytes, out, seen } = p;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ValidationError(at, 'must be an object { name, queue, data?, opts?, children?, onFailure? }');
  for (const k of Object.keys(v))
    if (!NODE_KEYS.has(k)) throw new ValidationError(`${at}.${k}`, 'is not a flow job field');
  if (depth > MAX_DEPTH) throw new ValidationError(at, `is deeper than the limit of ${MAX_DEPTH} levels`);
  const f = v as FlowJob;
  validateName(`${at}.name`, f.name);
  let queue: string;
  try {
    queue = validateQueueName(f.queue);
  } catch (err) {
    throw new ValidationError(`${at}.queue`, (err as Error).message.replace(/^name: /, ''));
  }
  // Siblings built from one options object are checked once (a fan-out of a thousand).
  let opts = p.opts.get(f.opts);
  if (!opts) {
    opts = validateJobOptions(`${at}.opts`, f.opts);
    if (typeof f.opts === 'object') p.opts.set(f.opts, opts);
  }
  if (opts.dedup !== undefined) throw new ValidationError(`${at}.opts.dedup`, 'is not supported in a flow');
  const children = f.children ?? [];
  if (!Array.isArray(children)) throw new ValidationError(`${at}.children`, 'must be an array of flow jobs');
  if (children.length > MAX_CHILDREN)
    throw new ValidationError(
      `${at}.children`,
      `has ${children.length} jobs, over the limit of ${MAX_CHILDREN}`,
    );
  if (children.length > 0 && opts.delay)
    throw new ValidationError(
      `${at}.opts.delay`,
      'is not supported on a job with children (it runs when they are done)',
    );
  const onFailure = f.onFailure ?? 'fail';
  if (!POLICIES.includes(onFailure))
    throw new ValidationError(`${at}.onFailure`, `must be one of ${POLICIES.join(', ')}`);
  if (f.onFailure !== undefined && !parent)
    throw new ValidationError(`${at}.onFailure`, 'applies to children only (the root has no parent)');
  const id = opts.jobId ?? (parent ? `${parent.id}/${parent.index}` : `flow-${randomUUID()}`);
  if (id.length > 256)
    throw new ValidationError(
      `${at}.opts.jobId`,
      `the derived id is over 256 characters: ${id.slice(0, 40)}...`,
    );
  // Ids are unique per queue as users name it: a partitioned queue finds a job by id alone.
  const ref = `${queue}${SEP}${id}`;
  if (seen.has(ref))
    throw new ValidationError(`${at}.opts.jobId`, `${queue}/${id} appears twice in the flow`);
  seen.add(ref);
  let home: string;
  try {
    home = p.place(queue, id, opts.group);
  } catch (err) {
    throw new ValidationError(`${at}.queue`, (err as Error).message);
  }
  const dataJson = serializeData(`${at}.data`, f.data, maxBytes);
  const link: FlowParentRef | undefined = parent && { queue: parent.queue, id: parent.id, onFailure };
  const cached = parent?.stored.get(f.opts);
  let optsJson = cached?.policy === onFailure ? cached.json : undefined;
  if (optsJson === undefined) {
    optsJson = JSON.stringify(link ? { ...opts, parent: link } : opts);
    parent?.stored.set(f.opts, { policy: onFailure, json: optsJson });
  }
  const wave = !parent ? 0 : parent.queue === home ? parent.wave : parent.wave + 1;
  const node: FlowNodeIds = { queue, id, added: false, children: [] };
  const job: PlannedJob = {
    queue: home,
    id,
    record: encodeRecord(f.name, now, optsJson, dataJson),
    priority: opts.priority ?? 0,
    delay: opts.delay ?? 0,
    group: opts.group ?? '',
    link: link ? `${onFailure}${SEP}${link.queue}${SEP}${link.id}` : '',
    children: [],
    wave,
    node,
  };
  out.push(job);
  const kidsOpts: ParentContext['stored'] = new Map();
  children.forEach((c, i) => {
    const ctx = { queue: home, id, wave, index: i, stored: kidsOpts };
    const child = planNode(c, `${at}.children[${i}]`, p, ctx, depth + 1);
    // The parent's children hash names each child by the queue it is stored in: its outcome arrives so.
    job.children.push(child.queue, child.id);
    node.children.push(child.node);
  });
  return job;
}
