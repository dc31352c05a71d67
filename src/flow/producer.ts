import type { Redis } from 'ioredis';
import { flowChildrenKey, type QueueKeys, queueKeys, registryKey, SCRIPT_KEYS } from '../queue/keys.js';
import {
  logicalName,
  partitionBase,
  partitionNames,
  partitionOfGroup,
  partitionOfId,
} from '../queue/partitions/layout.js';
import { partitionsKey } from '../queue/partitions/registry.js';
import { SEP } from '../queue/record.js';
import { scriptKeys } from '../queue/script-keys.js';
import { queueScripts } from '../queue/scripts.js';
import { validatePrefix, validateQueueName } from '../queue/validate.js';
import { type ConnectionOptions, createClient } from '../redis/connection.js';
import { callScript, defineScripts } from '../redis/scripts.js';
import { JobStateError, ValidationError } from '../util/errors.js';
import { readChildren } from './children.js';
import { type Placer, type PlannedJob, planFlow } from './plan.js';
import { removeFlowAware } from './remove.js';
import { flowScripts } from './scripts.js';
import type { FlowChild, FlowJob, FlowNodeIds } from './types.js';

export interface FlowProducerOptions {
  connection?: ConnectionOptions;
  /** Key prefix of the flows' queues. Default `hopper`. */
  prefix?: string;
  /** Largest serialised `data` of one job, in bytes. Default 512 KiB. */
  maxPayloadBytes?: number;
}

function checkId(id: unknown): void {
  if (typeof id !== 'string')
    throw new ValidationError('id', `must be a job id (a string), got ${typeof id}`);
}

/** Jobs per flow-add.lua call. */
const PER_CALL = 1000;

/**
 * Adds flows: trees of jobs across queues where a parent runs only after all its
 * children finished, and reads their results (`job.children()`). See docs/flows.md.
 */
export class FlowProducer {
  readonly prefix: string;
  private readonly client: Redis;
  private readonly maxPayloadBytes: number;
  private readonly keysOf = new Map<string, QueueKeys>();
  /**
   * Partition count of each queue this producer wrote to (1: a plain queue), read once
   * from the registry (`partitionsKey`) and kept: a count cannot change on a live queue.
   */
  private readonly counts = new Map<string, number>();

  constructor(options: FlowProducerOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('options', 'must be an object of FlowProducerOptions');
    this.prefix = validatePrefix(options.prefix);
    const max = options.maxPayloadBytes ?? 512 * 1024;
    if (!Number.isSafeInteger(max) || max < 1)
      throw new ValidationError('maxPayloadBytes', `must be a positive integer, got ${String(max)}`);
    this.maxPayloadBytes = max;
    this.client = createClient(options.connection, 'producer');
    this.client.on('error', () => {}); // reconnects on its own; failed commands reject to the caller
    defineScripts(this.client, queueScripts);
    defineScripts(this.client, flowScripts);
  }

  private keys(queue: string): QueueKeys {
    let k = this.keysOf.get(queue);
    if (!k) {
      k = queueKeys(this.prefix, queue);
      this.keysOf.set(queue, k);
    }
    return k;
  }

  /**
   * Adds one flow; resolves to the ids of its jobs in the shape of the tree. Adding the
   * same flow again (same root `jobId`) adds nothing. Parents are written before their
   * children, so a child never finishes before its parent exists.
   */
  async add<D>(flow: FlowJob<D>): Promise<FlowNodeIds> {
    const { result, jobs } = await this.plan((out, place) =>
      planFlow(flow, 'flow', this.maxPayloadBytes, out, place),
    );
    await this.write(jobs);
    return result;
  }

  /** Adds many flows in few round trips (one call per queue and wave); all are checked before any is written. */
  async addBulk(flows: FlowJob[]): Promise<FlowNodeIds[]> {
    if (!Array.isArray(flows)) throw new ValidationError('flows', 'must be an array of flow jobs');
    const { result, jobs } = await this.plan((out, place) =>
      flows.map((f, i) => planFlow(f, `flows[${i}]`, this.maxPayloadBytes, out, place)),
    );
    await this.write(jobs);
    return result;
  }

  /**
   * Checks and plans flows with the partition counts known. A queue not seen before is
   * planned as a plain one, then its count is read (one HMGET for all of them) and it is
   * registered; if one is partitioned, or is a partition's own name, the flows are planned
   * again, now placing each job in its partition (or refusing). Nothing, the registry
   * included, is written before the flows passed every check.
   */
  private async plan<T>(
    make: (out: PlannedJob[], place: Placer) => T,
  ): Promise<{ result: T; jobs: PlannedJob[] }> {
    const unknown = new Set<string>();
    const refused = new Map<string, string>();
    const place: Placer = (queue, id, group) => {
      const why = refused.get(queue);
      if (why !== undefined) throw new Error(why);
      const n = this.counts.get(queue);
      if (n === undefined) unknown.add(queue);
      if (n === undefined || n === 1) return queue;
      // By group (all of a group in one partition, as Queue.add places it), else by id, which
      // is where the partitioned Queue looks first (getJob, remove, retry).
      const k = group === undefined ? partitionOfId(id, n) : partitionOfGroup(group, n);
      return partitionNames(this.prefix, queue, n)[k]!;
    };
    let jobs: PlannedJob[] = [];
    let result = make(jobs, place);
    if (unknown.size > 0 && (await this.learn([...unknown], refused))) {
      jobs = [];
      result = make(jobs, place);
    }
    return { result, jobs };
  }

  /**
   * Reads the recorded partition counts of queues first seen and registers them (their own
   * names only: never a partition's). A name that is a partition's (`name#k` of a
   * partitioned `name`) goes into `refused`: writing to it directly would bypass the
   * placement that lets the partitioned Queue find the job. Resolves true when the flows
   * must be planned again.
   */
  private async learn(names: string[], refused: Map<string, string>): Promise<boolean> {
    const bases = names.map(partitionBase).filter((b) => b !== undefined);
    const asked = [...new Set([...names, ...bases])];
    const stored = await this.client.hmget(partitionsKey(this.prefix), ...asked);
    const recorded = new Map<string, number>();
    asked.forEach((q, i) => {
      if (stored[i] !== null) recorded.set(q, Number(stored[i]));
    });
    for (const q of names) {
      const of = logicalName(this.prefix, q, recorded);
      if (of !== q)
        refused.set(
          q,
          `${JSON.stringify(q)} is a partition of the partitioned queue ${JSON.stringify(of)}: name ${JSON.stringify(of)} (the producer picks the partition); nothing was written`,
        );
    }
    if (refused.size > 0) return true;
    await this.client.sadd(registryKey(this.prefix), ...names);
    let partitioned = false;
    for (const q of names) {
      const n = recorded.get(q) ?? 1;
      this.counts.set(q, n);
      if (n > 1) partitioned = true;
    }
    return partitioned;
  }

  private async write(jobs: PlannedJob[]): Promise<void> {
    const waves: Map<string, PlannedJob[]>[] = [];
    for (const j of jobs) {
      waves[j.wave] ??= new Map();
      const wave = waves[j.wave]!;
      const list = wave.get(j.queue);
      if (list) list.push(j);
      else wave.set(j.queue, [j]);
    }
    // A wave starts once the one before it is stored: parents exist before their children.
    for (const wave of waves) {
      if (!wave) continue;
      await Promise.all(
        [...wave].map(async ([queue, list]) => {
          for (let i = 0; i < list.length; i += PER_CALL)
            await this.addPart(queue, list.slice(i, i + PER_CALL));
        }),
      );
    }
  }

  private async addPart(queue: string, part: PlannedJob[]): Promise<void> {
    const k = this.keys(queue);
    const extra: string[] = [];
    const args: (string | number)[] = [part.length];
    for (const j of part) {
      let kidsAt = 0;
      if (j.children.length > 0) kidsAt = SCRIPT_KEYS.length + extra.push(flowChildrenKey(k, j.id));
      args.push(j.id, j.record, j.priority, j.delay, j.group, j.link, kidsAt, j.children.join(SEP));
    }
    const reply = await callScript<number[] | [number, string]>(
      this.client,
      'flow-add',
      scriptKeys(k, ...extra),
      args,
    );
    if (reply[0] === -1) {
      const shown = part[0]!.node.queue; // a partitioned queue's name, not its partition's
      throw new JobStateError(
        `job ${shown}/${reply[1]} exists and is not this flow's (another parent, or none): nothing of the flow was written to queue ${shown}`,
      );
    }
    part.forEach((j, i) => {
      j.node.added = reply[i] === 1;
    });
  }

  /** A flow job's children and their outcomes, as its handler sees them with `job.children()`. */
  async getChildren(queue: string, id: string): Promise<FlowChild[]> {
    checkId(id);
    const home = await this.locate(validateQueueName(queue), id, (k) =>
      this.client.exists(flowChildrenKey(k, id)),
    );
    return readChildren(this.client, this.keys(home), id, this.prefix);
  }

  /**
   * Removes a flow job that is not active (JobStateError if it is) with its children,
   * their children and so on (active ones are left to finish, unlinked, so their
   * outcome goes nowhere). A removed child's parent stops waiting for it: if it was the
   * last one pending, the parent runs. Resolves false when there was no such job.
   */
  async remove(queue: string, id: string): Promise<boolean> {
    checkId(id);
    const home = await this.locate(validateQueueName(queue), id, (k) => this.client.hexists(k.jobs, id));
    const status = await removeFlowAware(this.client, this.prefix, home, id, (q) => this.keys(q));
    if (status === -1) throw new JobStateError(`job ${queue}/${id} is active: a worker holds it`);
    return status === 1;
  }

  /**
   * The queue job `id` of `queue` is stored in: `queue` itself, or for a partitioned queue
   * the partition its id names (partitionOfId), else the one that has it (a grouped job
   * goes by its group), as the partitioned Queue looks it up.
   */
  private async locate(queue: string, id: string, has: (k: QueueKeys) => Promise<number>): Promise<string> {
    let n = this.counts.get(queue);
    if (n === undefined) {
      n = Number(await this.client.hget(partitionsKey(this.prefix), queue)) || 1;
      if (n > 1) this.counts.set(queue, n); // a plain one is kept once registered (learn)
    }
    if (n === 1) return queue;
    const names = partitionNames(this.prefix, queue, n);
    const first = names[partitionOfId(id, n)]!;
    if ((await has(this.keys(first))) > 0) return first;
    const found = await Promise.all(names.map((q) => (q === first ? 0 : has(this.keys(q)))));
    const at = found.findIndex((x) => x > 0);
    return at === -1 ? first : names[at]!;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
