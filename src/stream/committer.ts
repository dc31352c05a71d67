import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { clientPassword } from '../redis/connection.js';
import { redactError } from '../redis/redact.js';
import { callScript } from '../redis/scripts.js';
import type { Held } from './entry.js';
import type { StreamKeys } from './keys.js';
import { isDataError } from './sink-error.js';
import type { Sink } from './types.js';

/**
 * Writes batches to the sink, acknowledges what it committed, isolates entries the
 * sink rejects and dead-letters them after `maxDeliveries`.
 *
 * The hard part is telling a bad entry from a sink that is down: both make a batch
 * fail. The rule is evidence: an entry is charged a failed delivery only when the
 * sink committed something else after that entry's previous failure (in the same
 * isolation round, or any batch of this processor since). A failed batch is first
 * probed by halves: if both halves fail too, and nothing has committed since the
 * batch last failed, it looks like an outage and the whole batch is retried later,
 * nobody charged, so an outage never dead-letters anything. If one half commits,
 * the other is bisected down to the entries that fail alone. An entry once caught
 * failing alone is a suspect: its later failures count without new proof, so a
 * poison entry is dead-lettered even when nothing else is flowing. A failure the sink
 * says is about the data (isDataError: a SinkDataError, or SQLSTATE class 22, 23 or 54)
 * is proof enough by itself: the batch is isolated at once and never taken for an
 * outage, so bad events cannot hold up the good ones.
 */
export class Committer extends EventEmitter {
  /** Sequence of sink calls, and the sequence number of the latest that succeeded. */
  private calls = 0;
  private lastOk = 0;

  constructor(
    private readonly client: Redis,
    private readonly keys: StreamKeys,
    private readonly streamName: string,
    private readonly group: string,
    private readonly sink: Sink,
    private readonly maxDeliveries: number,
    /** Dead letters kept (newest); 0: unbounded. */
    private readonly deadMaxLen: number,
  ) {
    super();
  }

  /**
   * Commits what it can of `batch`; returns the parts to retry later (an outage
   * batch whole, or single entries that failed alone).
   */
  async run(batch: Held[], consumer: string): Promise<Held[][]> {
    const retry: Held[][] = [];
    const over = batch.filter((h) => h.entry.deliveries > this.maxDeliveries);
    if (over.length > 0) await this.deadLetter(over, consumer);
    const part = over.length > 0 ? batch.filter((h) => h.entry.deliveries <= this.maxDeliveries) : batch;
    if (part.length === 0) return retry;

    // Parts fail together, so their entries share one failedAt.
    const failedBefore = part[0]!.failedAt;
    let provenSince = failedBefore > 0 && this.lastOk > failedBefore;
    if (await this.write(part)) return retry;
    if (isDataError(part[0]!.lastError)) provenSince = true;
    if (part.length === 1) {
      if (provenSince || part[0]!.suspect) await this.blame(part[0]!, consumer, retry);
      else retry.push(part);
    } else if (provenSince) {
      await this.isolate(part, consumer, retry);
    } else {
      const [a, b] = halves(part);
      const okA = await this.write(a);
      const okB = await this.write(b);
      if (okA || okB) await this.isolate(okA ? b : a, consumer, retry);
      else if (isDataError(a[0]!.lastError) || isDataError(b[0]!.lastError)) {
        // Bad events in a half: the sink is up, so find them rather than wait.
        for (const half of [a, b])
          if (isDataError(half[0]!.lastError)) await this.isolate(half, consumer, retry);
          else retry.push(half);
      } else retry.push(part);
    }
    return retry;
  }

  /** `part` failed while the sink is known to work: bisect to the entries that fail alone. */
  private async isolate(part: Held[], consumer: string, retry: Held[][]): Promise<void> {
    if (part.length === 1) return this.blame(part[0]!, consumer, retry);
    for (const half of halves(part)) {
      if (!(await this.write(half))) await this.isolate(half, consumer, retry);
    }
  }

  private async blame(h: Held, consumer: string, retry: Held[][]): Promise<void> {
    h.suspect = true;
    h.entry.deliveries++;
    if (h.entry.deliveries > this.maxDeliveries) await this.deadLetter([h], consumer);
    else retry.push([h]);
  }

  /** One sink call, then the ack of the entries it completed. False (events stay pending) if the sink failed. */
  private async write(part: Held[]): Promise<boolean> {
    const seq = ++this.calls;
    const started = performance.now();
    try {
      await this.sink(part.map((h) => h.entry));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const h of part) {
        h.failedAt = seq;
        h.lastError = error;
      }
      this.emit('error', error);
      return false;
    }
    const ms = performance.now() - started;
    this.lastOk = Math.max(this.lastOk, seq);
    const complete: string[] = [];
    for (const h of part) if (settle(h)) complete.push(h.source.id);
    if (complete.length > 0)
      try {
        await this.client.xack(this.keys.stream, this.group, ...complete);
      } catch (err) {
        // Committed but not acknowledged: the entries come back after claimIdle and the
        // sink's idempotency key keeps them from being written twice.
        this.emit('error', redactError(err, [clientPassword(this.client)]));
      }
    this.emit('batch', part.length, ms);
    return true;
  }

  private async deadLetter(events: Held[], consumer: string): Promise<void> {
    // An entry is acknowledged with the dead letter of its last open event; the
    // events of the same entry still open (retrying, say) keep it pending.
    const left = new Map<Held['source'], number>();
    for (const h of events) if (!h.done) left.set(h.source, (left.get(h.source) ?? 0) + 1);
    const completes = new Set([...left].filter(([source, n]) => n === source.open).map(([source]) => source));
    const args: (string | number)[] = [this.group, this.streamName, this.deadMaxLen];
    for (const h of events) {
      const error =
        h.lastError ??
        new Error(
          `delivered ${h.entry.deliveries} times without an acknowledgement (maxDeliveries ${this.maxDeliveries}): its consumers stopped or timed out`,
        );
      h.lastError = error;
      const n = (left.get(h.source) ?? 1) - 1;
      left.set(h.source, n);
      // The ack rides on the entry's last dead letter here, so the ones before it still see it pending.
      const ack = n === 0 && completes.has(h.source) ? 1 : 0;
      args.push(
        h.entry.id,
        h.source.id,
        ack,
        h.json,
        h.entry.deliveries,
        `${error.name}: ${error.message}`,
        consumer,
      );
    }
    // Before the ack, in one script: an entry is never acknowledged without its dead letters.
    await callScript<number>(this.client, 'dead-letter', [this.keys.stream, this.keys.dead], args);
    for (const h of events) {
      settle(h);
      this.emit('dead', h.entry, h.lastError);
    }
  }
}

/** Marks an event written or dead-lettered; true when that completes its entry. */
function settle(h: Held): boolean {
  if (h.done) return false;
  h.done = true;
  return --h.source.open === 0;
}

function halves(part: Held[]): [Held[], Held[]] {
  const mid = Math.ceil(part.length / 2);
  return [part.slice(0, mid), part.slice(mid)];
}
