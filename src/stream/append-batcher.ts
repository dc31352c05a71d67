import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';

type Pending = { events: string[]; resolve: (ids: string[]) => void; reject: (err: unknown) => void };

/**
 * Coalesces concurrent appends: every append() and appendMany() made in the same
 * turn of the event loop goes to Redis in one append.lua call (one command, however
 * many entries), which is what Node's per-command cost rewards. Several calls may be
 * in flight at once, and each resolves with its ids in the order given.
 */
export class AppendBatcher {
  private pending: Pending[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    private readonly client: Redis,
    private readonly streamKey: string,
    private readonly maxBatch = 1000,
  ) {}

  append(events: string[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (this.size > 0 && this.size + events.length > this.maxBatch) this.flush();
      this.pending.push({ events, resolve, reject });
      this.size += events.length;
      if (this.size >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.size = 0;
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
