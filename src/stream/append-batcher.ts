import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { Coalescer } from '../util/coalescer.js';

/** Events one entry holds at most (append.lua unpacks 2 arguments per event, under Lua's stack limit). */
export const MAX_EVENTS_PER_ENTRY = 1000;

type Pending = {
  events: string[];
  /** true: the events share entries (fields `e`); false: each event is an entry (field `d`). */
  together: boolean;
  resolve: (ids: string[]) => void;
  reject: (err: unknown) => void;
};

/**
 * Coalesces concurrent appends: every append made in the same turn of the event loop
 * goes to Redis in one append.lua call (one command, however many entries), which is
 * what Node's per-command cost rewards. Several calls may be in flight at once, and
 * each resolves with its ids in the order given. Events appended `together` share one
 * entry (several when there are more than MAX_EVENTS_PER_ENTRY); their ids are
 * `<entryId>:<index within the entry>`.
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

  append(events: string[], together = false): Promise<string[]> {
    return new Promise((resolve, reject) =>
      this.coalescer.push({ events, together, resolve, reject }, events.length),
    );
  }

  private send(batch: Pending[]): void {
    const args: (string | number)[] = [];
    for (const p of batch) {
      if (p.together)
        for (let at = 0; at < p.events.length; at += MAX_EVENTS_PER_ENTRY) {
          const chunk = p.events.slice(at, at + MAX_EVENTS_PER_ENTRY);
          args.push(chunk.length, ...chunk);
        }
      else for (const json of p.events) args.push('d', json);
    }
    callScript<string[]>(this.client, 'append', [this.streamKey], args).then(
      (ids) => {
        let at = 0;
        for (const p of batch) {
          if (!p.together) {
            p.resolve(ids.slice(at, at + p.events.length));
            at += p.events.length;
            continue;
          }
          const out: string[] = new Array(p.events.length);
          for (let i = 0; i < p.events.length; i++) {
            if (i > 0 && i % MAX_EVENTS_PER_ENTRY === 0) at++;
            out[i] = `${ids[at]}:${i % MAX_EVENTS_PER_ENTRY}`;
          }
          at++;
          p.resolve(out);
        }
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
