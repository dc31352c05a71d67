import type { Redis } from 'ioredis';
import { reconnectDelay } from '../redis/connection.js';
import type { Logger } from '../util/logger.js';
import type { Committer } from './committer.js';
import { decodeEntries, type Held, readReply } from './entry.js';
import type { StreamKeys } from './keys.js';

/** Longest a read blocks, so claims and retries are looked at regularly. */
const MAX_BLOCK_MS = 1000;

export interface ConsumerContext {
  client: Redis;
  keys: StreamKeys;
  streamName: string;
  group: string;
  batchSize: number;
  flushInterval: number;
  claimIdle: number;
  committer: Committer;
  logger: Logger;
  onError: (err: unknown) => void;
}

interface Parked {
  part: Held[];
  due: number;
  tries: number;
}

/**
 * One consumer of the group: reads entries into a batch and hands the batch to the
 * committer when it is full (`batchSize`) or `flushInterval` ms after its first
 * entry, whichever comes first. While the sink writes, it reads nothing more: the
 * entries wait in Redis, where other consumers can take them. It also claims
 * entries left idle by stopped consumers (XAUTOCLAIM) and retries what the sink
 * failed, with backoff. Reads and claims run on its own connection (a blocking read
 * would hold a shared one).
 */
export class Consumer {
  private batch: Held[] = [];
  private batchStart = 0;
  private parked: Parked[] = [];
  private inFlight: Held[] = [];
  private nextClaim = 0;
  private claimCursor = '0-0';
  /** Events per entry in the last read: 1 for append/appendMany entries, more for appendBatch ones. */
  private perEntry = 1;
  private closing = false;
  private loopDone: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly ctx: ConsumerContext,
    private readonly reader: Redis,
  ) {}

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Ids of the entries this consumer holds (in the batch, being written, or waiting for a retry). */
  heldIds(): string[] {
    const ids = new Set<string>();
    for (const h of this.batch) ids.add(h.source.id);
    for (const h of this.inFlight) ids.add(h.source.id);
    for (const p of this.parked) for (const h of p.part) ids.add(h.source.id);
    return [...ids];
  }

  /** Drops entries another consumer took over (or that were acknowledged or deleted). */
  forget(ids: string[]): void {
    if (ids.length === 0) return;
    const gone = new Set(ids);
    this.batch = this.batch.filter((h) => !gone.has(h.source.id));
    for (const p of this.parked) p.part = p.part.filter((h) => !gone.has(h.source.id));
    this.parked = this.parked.filter((p) => p.part.length > 0);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      try {
        await this.step();
        failures = 0;
      } catch (err) {
        if (this.closing) break;
        this.ctx.onError(err);
        await new Promise((r) => setTimeout(r, reconnectDelay(failures++)));
      }
    }
  }

  private async step(): Promise<void> {
    const { batchSize, flushInterval } = this.ctx;
    const now = Date.now();
    const due = this.takeDue(now);
    if (due) return this.commit(due.part, due.tries + 1);
    if (this.batch.length >= batchSize || (this.batch.length > 0 && now - this.batchStart >= flushInterval)) {
      // At most batchSize events per sink call; the rest of a read (events of appendBatch
      // entries) goes in the next, keeping its arrival time.
      const part = this.batch.length > batchSize ? this.batch.splice(0, batchSize) : this.batch;
      if (part === this.batch) this.batch = [];
      return this.commit(part, 0);
    }
    // Entries to ask for: as many as the room holds at the events per entry seen last.
    const room = Math.max(1, Math.floor((batchSize - this.batch.length) / this.perEntry));
    if (now >= this.nextClaim) {
      // Claims come at a fraction of claimIdle, so a dead consumer's entries wait at most about 1.5 x claimIdle.
      this.nextClaim = now + Math.max(50, Math.floor(this.ctx.claimIdle / 2));
      if (await this.claim(room)) return;
    }
    let wait = MAX_BLOCK_MS;
    if (this.batch.length > 0) wait = Math.min(wait, this.batchStart + flushInterval - now);
    if (this.parked.length > 0) wait = Math.min(wait, Math.min(...this.parked.map((p) => p.due)) - now);
    wait = Math.max(1, Math.min(wait, this.nextClaim - now));
    // Retries hold a batch's worth: wait for them rather than take more from Redis.
    if (this.parkedCount() >= batchSize) {
      await new Promise((r) => setTimeout(r, wait));
      return;
    }
    const reply = await this.reader.call(
      'XREADGROUP',
      'GROUP',
      this.ctx.group,
      this.name,
      'COUNT',
      room,
      'BLOCK',
      Math.ceil(wait),
      'STREAMS',
      this.ctx.keys.stream,
      '>',
    );
    const raw = readReply(reply);
    const { held } = decodeEntries(this.ctx.streamName, raw, () => 1);
    if (raw.length > 0) this.perEntry = Math.max(1, held.length / raw.length);
    this.add(held);
  }

  private add(held: Held[]): void {
    if (held.length === 0) return;
    if (this.batch.length === 0) this.batchStart = Date.now();
    this.batch.push(...held);
  }

  private parkedCount(): number {
    let n = 0;
    for (const p of this.parked) n += p.part.length;
    return n;
  }

  private takeDue(now: number): Parked | undefined {
    let best = -1;
    for (let i = 0; i < this.parked.length; i++) {
      const p = this.parked[i]!;
      if (p.due <= now && (best < 0 || p.due < this.parked[best]!.due)) best = i;
    }
    return best < 0 ? undefined : this.parked.splice(best, 1)[0];
  }

  private async commit(part: Held[], tries: number): Promise<void> {
    this.inFlight = part;
    try {
      const retry = await this.ctx.committer.run(part, this.name);
      for (const p of retry)
        this.parked.push({ part: p, tries, due: Date.now() + reconnectDelay(tries, 100) });
    } finally {
      this.inFlight = [];
    }
  }

  /**
   * Takes entries idle longer than claimIdle (a stopped consumer's) with XAUTOCLAIM,
   * which counts a delivery; their delivery counts come from XPENDING. True if any came.
   */
  private async claim(room: number): Promise<boolean> {
    const { keys, group, claimIdle, streamName } = this.ctx;
    const [next, raw, deleted] = (await this.reader.call(
      'XAUTOCLAIM',
      keys.stream,
      group,
      this.name,
      claimIdle,
      this.claimCursor,
      'COUNT',
      room,
    )) as [string, [string, string[] | null][], string[] | undefined];
    this.claimCursor = next;
    if (deleted && deleted.length > 0)
      this.ctx.logger.warn(
        { stream: streamName, group, ids: deleted.length },
        'pending entries were deleted from the stream before they were processed',
      );
    if (raw.length === 0) return false;
    const counts = new Map<string, number>();
    const pel = (await this.reader.call(
      'XPENDING',
      keys.stream,
      group,
      raw[0]![0],
      raw[raw.length - 1]![0],
      raw.length,
      this.name,
    )) as [string, string, number, number][];
    for (const [id, , , n] of pel) counts.set(id, Number(n));
    const { held, gone } = decodeEntries(streamName, raw, (id) => counts.get(id) ?? 1);
    if (gone.length > 0) await this.ctx.client.xack(keys.stream, group, ...gone);
    this.ctx.logger.info(
      { stream: streamName, group, consumer: this.name, claimed: held.length },
      `[${this.name}] claimed ${held.length} entries idle longer than ${claimIdle} ms`,
    );
    this.add(held);
    return held.length > 0;
  }

  /**
   * Graceful stop: no more reads, then flush what this consumer holds (the batch in
   * hand, retries, and anything Redis delivered whose reply the stop cut off, read
   * back from its pending list) and acknowledge it, retrying until `deadline`.
   * Returns how many entries were flushed and how many are still pending.
   */
  async stop(deadline: number): Promise<{ flushed: number; left: number }> {
    this.closing = true;
    this.reader.disconnect(); // ends a blocking read at once
    const left = () => Math.max(0, deadline - Date.now());
    const finished = await Promise.race([
      (this.loopDone ?? Promise.resolve()).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), left()).unref()),
    ]);
    // A sink call still running past the deadline keeps its entries: they stay pending.
    const busy = new Set(finished ? [] : this.inFlight.map((h) => h.source.id));
    const byId = new Map<string, Held>();
    for (const h of this.batch) byId.set(h.entry.id, h);
    for (const p of this.parked) for (const h of p.part) byId.set(h.entry.id, h);
    this.batch = [];
    this.parked = [];
    // Entries read back whole; one some of whose events are in hand is not (the rest were written).
    const inHand = new Set([...byId.values()].map((h) => h.source.id));
    try {
      for (const h of await this.ownPending()) if (!inHand.has(h.source.id)) byId.set(h.entry.id, h);
    } catch (err) {
      this.ctx.onError(err);
    }
    for (const [id, h] of byId) if (busy.has(h.source.id)) byId.delete(id);
    let todo = [...byId.values()].sort((a, b) => compareIds(a.entry.id, b.entry.id));
    const total = todo.length;
    let tries = 0;
    while (todo.length > 0 && left() > 0) {
      const next: Held[] = [];
      for (let i = 0; i < todo.length && left() > 0; i += this.ctx.batchSize) {
        const part = todo.slice(i, i + this.ctx.batchSize);
        try {
          for (const p of await this.ctx.committer.run(part, this.name)) next.push(...p);
        } catch (err) {
          this.ctx.onError(err);
          next.push(...part);
        }
      }
      todo = next;
      if (todo.length > 0)
        await new Promise((r) => setTimeout(r, Math.min(left(), reconnectDelay(tries++, 100))));
    }
    return { flushed: total - todo.length, left: todo.length + busy.size };
  }

  /** This consumer's pending entries, read back with XREADGROUP from id 0 (no new deliveries). */
  private async ownPending(): Promise<Held[]> {
    const { client, keys, group, streamName } = this.ctx;
    const out: Held[] = [];
    let from = '0';
    for (;;) {
      const reply = await client.call(
        'XREADGROUP',
        'GROUP',
        group,
        this.name,
        'COUNT',
        1000,
        'STREAMS',
        keys.stream,
        from,
      );
      const raw = readReply(reply);
      if (raw.length === 0) return out;
      const { held, gone } = decodeEntries(streamName, raw, () => 1);
      if (gone.length > 0) await client.xack(keys.stream, group, ...gone);
      out.push(...held);
      from = raw[raw.length - 1]![0];
    }
  }
}

/** Orders `<ms>-<seq>` entry ids, and `<ms>-<seq>:<index>` event ids within their entry. */
export function compareIds(a: string, b: string): number {
  const [am, as, ai] = a.split(/[-:]/).map(Number) as [number, number, number?];
  const [bm, bs, bi] = b.split(/[-:]/).map(Number) as [number, number, number?];
  return am - bm || as - bs || (ai ?? -1) - (bi ?? -1);
}
