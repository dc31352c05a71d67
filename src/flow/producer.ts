import type { Redis } from 'ioredis';
import { flowChildrenKey, type QueueKeys, queueKeys, registryKey, SCRIPT_KEYS } from '../queue/keys.js';
import { partitionsKey } from '../queue/partitions/registry.js';
import { SEP } from '../queue/record.js';
import { scriptKeys } from '../queue/script-keys.js';
import { queueScripts } from '../queue/scripts.js';
import { validatePrefix, validateQueueName } from '../queue/validate.js';
import { type ConnectionOptions, createClient } from '../redis/connection.js';
import { callScript, defineScripts } from '../redis/scripts.js';
import { JobStateError, ValidationError } from '../util/errors.js';
import { readChildren } from './children.js';
import { type PlannedJob, planFlow } from './plan.js';
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
  private readonly registered = new Set<string>();

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
    const jobs: PlannedJob[] = [];
    const root = planFlow(flow, 'flow', this.maxPayloadBytes, jobs);
    await this.write(jobs);
    return root;
  }

  /** Adds many flows in few round trips (one call per queue and wave); all are checked before any is written. */
  async addBulk(flows: FlowJob[]): Promise<FlowNodeIds[]> {
    if (!Array.isArray(flows)) throw new ValidationError('flows', 'must be an array of flow jobs');
    const jobs: PlannedJob[] = [];
    const roots = flows.map((f, i) => planFlow(f, `flows[${i}]`, this.maxPayloadBytes, jobs));
    await this.write(jobs);
    return roots;
  }

  private async write(jobs: PlannedJob[]): Promise<void> {
    const queues = [...new Set(jobs.map((j) => j.queue))].filter((q) => !this.registered.has(q));
    if (queues.length > 0) {
      // A flow's jobs are written to a queue's own keys: a partitioned queue has none (docs/flows.md).
      const counts = await this.client.hmget(partitionsKey(this.prefix), ...queues);
      const at = counts.findIndex((n) => n !== null && Number(n) > 1);
      if (at !== -1)
        throw new ValidationError(
          'queue',
          `queue ${JSON.stringify(queues[at])} is partitioned (${counts[at]} partitions): flows cannot use a partitioned queue; nothing was written`,
        );
      await this.client.sadd(registryKey(this.prefix), ...queues);
      for (const q of queues) this.registered.add(q);
    }
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
    if (reply[0] === -1)
      throw new JobStateError(
        `job ${queue}/${reply[1]} exists and is not this flow's (another parent, or none): nothing of the flow was written to queue ${queue}`,
      );
    part.forEach((j, i) => {
      j.node.added = reply[i] === 1;
    });
  }

  /** A flow job's children and their outcomes, as its handler sees them with `job.children()`. */
  getChildren(queue: string, id: string): Promise<FlowChild[]> {
    return readChildren(this.client, this.keys(validateQueueName(queue)), id);
  }

  /**
   * Removes a flow job that is not active (JobStateError if it is) with its children,
   * their children and so on (active ones are left to finish, unlinked, so their
   * outcome goes nowhere). A removed child's parent stops waiting for it: if it was the
   * last one pending, the parent runs. Resolves false when there was no such job.
   */
  async remove(queue: string, id: string): Promise<boolean> {
    const status = await removeFlowAware(this.client, this.prefix, validateQueueName(queue), id, (q) =>
      this.keys(q),
    );
    if (status === -1) throw new JobStateError(`job ${queue}/${id} is active: a worker holds it`);
    return status === 1;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
