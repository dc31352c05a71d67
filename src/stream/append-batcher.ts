import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { Coalescer } from '../util/coalescer.js';
import { appendReplyKey, type StreamKeys } from './keys.js';

/** Events one entry holds at most (append.lua unpacks 2 arguments per event, under Lua's stack limit). */
export const MAX_EVENTS_PER_ENTRY = 1000;

/**
 * How long Redis keeps a call's reply for a resend (ms). ioredis resends unanswered
 * commands when it reconnects, and a producer gives up on a command after 3 reconnect
 * attempts (connection.ts), well within this.
 */
export const APPEND_REPLY_TTL_MS = 60_000;

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
 * `<entryId>:<index within the entry>`. Each call carries a request id unique to it,
 * so a call that ioredis resends after a lost reply stores nothing new (append.lua).
 */
export class AppendBatcher {
  private readonly coalescer: Coalescer<Pending>;
  /** Request ids: random per batcher, then a counter (cheaper than random bytes per call). */
  private readonly idPrefix = randomBytes(6).toString('base64url');
  private calls = 0;

  constructor(
    private readonly client: Redis,
    private readonly keys: StreamKeys,
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
    const args: (string | number)[] = [APPEND_REPLY_TTL_MS];
    for (const p of batch) {
      if (p.together)
        for (let at = 0; at < p.events.length; at += MAX_EVENTS_PER_ENTRY) {
          const chunk = p.events.slice(at, at + MAX_EVENTS_PER_ENTRY);
          args.push(chunk.length, ...chunk);
        }
      else for (const json of p.events) args.push('d', json);
    }
    const replyKey = appendReplyKey(this.keys, `${this.idPrefix}:${(this.calls++).toString(36)}`);
    callScript<string[]>(this.client, 'append', [this.keys.stream, replyKey], args).then(
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
