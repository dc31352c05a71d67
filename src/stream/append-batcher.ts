import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { Coalescer } from '../util/coalescer.js';

type Pending = { events: string[]; resolve: (ids: string[]) => void; reject: (err: unknown) => void };

/**
 * Coalesces concurrent appends: every append() and appendMany() made in the same
 * turn of the event loop goes to Redis in one append.lua call (one command, however
 * many entries), which is what Node's per-command cost rewards. Several calls may be
 * in flight at once, and each resolves with its ids in the order given.
 */
export class AppendBatcher {
  private readonly coalescer: Coalescer<Pending>;

  constructor(
    private readonly client: Redis,
    private readonly streamKey: string,
    maxBatch = 1000,
  ) {
    this.coalescer = new Coalescer((batch) => this.send(batch), maxBatch);
  }

  append(events: string[]): Promise<string[]> {
    return new Promise((resolve, reject) => this.coalescer.push({ events, resolve, reject }, events.length));
  }

  private send(batch: Pending[]): void {
    const args = batch.length === 1 ? batch[0]!.events : batch.flatMap((p) => p.events);
    callScript<string[]>(this.client, 'append', [this.streamKey], args).then(
      (ids) => {
        let at = 0;
        for (const p of batch) {
          p.resolve(ids.slice(at, at + p.events.length));
          at += p.events.length;
        }
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
