import type { Redis } from 'ioredis';
import type { QueueKeys } from '../queue/keys.js';
import { scriptKeys } from '../queue/script-keys.js';
import type { Settlement } from '../queue/worker/acker.js';
import { callScript, defineScripts } from '../redis/scripts.js';
import { Periodic } from '../util/periodic.js';
import { type Delivery, deliver, parseEntry } from './deliver.js';
import { flowScripts } from './scripts.js';
import type { FlowParentRef } from './types.js';

/** How often a worker looks for outbox entries nobody delivered. */
const SWEEP_EVERY_MS = 1000;
/** An entry claimed by a sweep is handed out again after this long if still there. */
const SWEEP_GRACE_MS = 5000;
const SWEEP_MAX = 500;

/**
 * A worker's side of flows: after a settle applied the outcomes of flow children,
 * delivers them to their parents' queues (deliver.ts); and every second sweeps its
 * queue's outbox for outcomes whose delivery a crash or error cut short.
 */
export class FlowDelivery {
  private readonly periodic: Periodic;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly queue: string,
    private readonly keys: QueueKeys,
    private readonly onError: (err: unknown) => void,
    /** Outcomes a sweep delivered: a crash or error had cut their delivery short. */
    private readonly onRecovered: (n: number) => void = () => {},
  ) {
    defineScripts(client, flowScripts);
    this.periodic = new Periodic(SWEEP_EVERY_MS, () => this.sweep(), onError);
  }

  start(): void {
    this.periodic.start();
  }

  /** Outcomes settle.lua applied: those of flow children that finished for good go to their parents. */
  settled(applied: Settlement[]): void {
    let list: Delivery[] | undefined;
    for (const s of applied) {
      const parent = (s.outcome.job.opts as { parent?: FlowParentRef }).parent;
      if (!parent || (!s.outcome.ok && s.retryDelay >= 0)) continue;
      list ??= [];
      list.push({
        childQueue: this.queue,
        childId: s.outcome.job.id,
        token: s.outcome.job.token,
        kind: s.outcome.ok ? 'c' : 'f',
        policy: parent.onFailure,
        parentQueue: parent.queue,
        parentId: parent.id,
        payload: s.payload,
      });
    }
    if (list) this.track(deliver(this.client, this.prefix, list));
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch(this.onError).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Delivers what the outbox holds past its grace (the worker that settled it died, or its delivery failed). */
  async sweep(): Promise<number> {
    const pairs = await callScript<string[]>(this.client, 'flow-claim', scriptKeys(this.keys), [
      SWEEP_MAX,
      SWEEP_GRACE_MS,
    ]);
    const list: Delivery[] = [];
    for (let i = 0; i < pairs.length; i += 2) {
      const d = parseEntry(this.queue, pairs[i]!, pairs[i + 1]!);
      if (d) list.push(d);
    }
    if (list.length > 0) {
      await deliver(this.client, this.prefix, list);
      this.onRecovered(list.length);
    }
    return list.length;
  }

  /** Stops sweeping and waits for deliveries under way. */
  async stop(): Promise<void> {
    this.periodic.stop();
    await Promise.all(this.inFlight);
  }
}
