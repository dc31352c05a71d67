import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Coalescer } from '../util/coalescer.js';
import type { Logger } from '../util/logger.js';
import { type ReadRecord, SpoolLog, type SpoolLogStats } from './log.js';
import type { CheckedSpoolOptions } from './options.js';
import { type ApplyResult, MAX_REPLAY_ITEMS, type SpoolItem, type SpoolTarget } from './target.js';

/**
 * One producer call waiting for the next batch. A single add resolves to one id: it
 * keeps that id and resolver instead of arrays (two allocations and a promise fewer on
 * the hottest path, which showed in the spool-on benchmark).
 */
type Pending<V> = {
  value: V;
  size: number;
  reject: (err: unknown) => void;
} & (
  | { one: true; spooledId: string; resolve: (id: string) => void }
  | { one: false; spooledIds: string[]; resolve: (ids: string[]) => void }
);

/** Resolves a call with the ids Redis reported, or (null) the ids it was given. */
function settle<V>(p: Pending<V>, ids: string[] | null | undefined): void {
  if (p.one) p.resolve(ids?.[0] ?? p.spooledId);
  else p.resolve(ids ?? p.spooledIds);
}

export interface SpoolStats extends SpoolLogStats {
  /** `direct`: calls go to Redis; `spooling`: they go to disk and a replayer drains it. */
  state: 'direct' | 'spooling';
  /** Age (ms) of the oldest record not yet replayed, 0 when empty. */
  ageMs: number;
  /** Records replayed into Redis since open. */
  replayed: number;
  /** The last error of a replay attempt, while Redis does not answer. */
  lastError: string | null;
}

/** Replay sends at most this many records per call. */
const REPLAY_BATCH = 500;
const timedOut = Symbol('timeout');

/**
 * The producer side of a spool: calls go to Redis in batches while it answers; when a
 * batch fails or goes unanswered past `timeout`, it and every later call are written
 * to the spool log instead (each resolves once written), and a replayer sends the log
 * to Redis, in order, as soon as Redis answers. Once the log is drained calls go to
 * Redis again. Every call gets a sequence number within this producer's run, and
 * Redis keeps the run's highest applied number (see SpoolTarget), so a batch sent
 * both directly and from the log, or replayed twice after a crash, is applied once.
 *
 * Batches are settled in the order they were made (a promise chain), so the log holds
 * calls in sequence order whatever order replies come back in.
 *
 * Events: `spooling` (err) when calls start going to disk, `drained` when the log is
 * empty and calls go to Redis again, `replayed` (count) after each replayed batch,
 * `corrupt` (message) when damaged bytes were skipped, and `stats` (SpoolStats) after
 * each of these and each spooled batch: the depth and age as they change.
 */
export class SpooledProducer<V> extends EventEmitter {
  readonly run = randomBytes(6).toString('base64url');
  readonly log: SpoolLog;
  private readonly coalescer: Coalescer<Pending<V>>;
  private seq = 0;
  private state: 'direct' | 'spooling' = 'direct';
  private tail: Promise<void> = Promise.resolve();
  private replaying: Promise<void> | undefined;
  private replayed = 0;
  private lastError: string | null = null;
  private closed = false;

  constructor(
    private readonly options: CheckedSpoolOptions,
    private readonly target: SpoolTarget<V>,
    private readonly logger: Logger,
    maxBatch = 1000,
  ) {
    super();
    this.log = new SpoolLog(options, (message) => {
      this.logger.error({ dir: options.dir }, message);
      this.emit('corrupt', message);
      this.changed();
    });
    this.coalescer = new Coalescer((batch) => this.flush(batch), maxBatch);
    // What a previous process left behind goes first: new calls queue behind it.
    if (this.log.stats().depth > 0) {
      this.startSpooling(new Error('records left in the spool by an earlier process'));
      this.startReplay();
    }
  }

  /** Sends one call (`size` items) to Redis or the spool; resolves to its ids. */
  submit(value: V, spooledIds: string[], size = 1): Promise<string[]> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) =>
      this.coalescer.push({ one: false, value, spooledIds, size, resolve, reject }, size),
    );
  }

  /** submit() for a call of one item: resolves to its id. */
  submitOne(value: V, spooledId: string): Promise<string> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) =>
      this.coalescer.push({ one: true, value, spooledId, size: 1, resolve, reject }, 1),
    );
  }

  private closedError(): Error {
    return new Error(`spool ${this.options.dir} is closed`);
  }

  stats(): SpoolStats {
    const s = this.log.stats();
    return {
      ...s,
      state: this.state,
      ageMs: s.oldest === null ? 0 : Math.max(0, Date.now() - s.oldest),
      replayed: this.replayed,
      lastError: this.lastError,
    };
  }

  /**
   * Settles every call made so far (sent, or written to the spool), stops replaying and
   * closes the log. Records not yet replayed stay on disk for the next process.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.coalescer.flush();
    this.closed = true;
    await this.tail;
    await this.replaying;
    this.log.close();
  }

  private flush(batch: Pending<V>[]): void {
    const items: SpoolItem<V>[] = batch.map((p) => ({ seq: ++this.seq, value: p.value }));
    if (this.state === 'spooling') {
      this.tail = this.tail.then(() => this.spool(batch, items));
      return;
    }
    const sent = this.apply(this.run, items, false);
    this.tail = this.tail.then(async () => {
      const result = await sent;
      if (result instanceof Error) {
        if (this.target.isDefinite?.(result)) {
          for (const p of batch) p.reject(result);
          return;
        }
        this.startSpooling(result);
        this.spool(batch, items);
      } else if ('gap' in result) {
        // An earlier batch of this run has not reached Redis: this one waits behind it in the log.
        this.startSpooling(new Error(`batch out of order (mark ${result.gap})`));
        this.spool(batch, items);
      } else {
        for (let i = 0; i < batch.length; i++) settle(batch[i]!, result.ids[i]);
      }
    });
  }

  /** One call to the target, bounded by `timeout`; an error comes back as the value. */
  private apply(run: string, items: SpoolItem<V>[], force: boolean): Promise<ApplyResult | Error> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof timedOut>((resolve) => {
      timer = setTimeout(() => resolve(timedOut), this.options.timeout);
    });
    return Promise.race([this.target.apply(run, items, force), timeout]).then(
      (r) => {
        clearTimeout(timer);
        return r === timedOut ? new Error(`Redis did not answer within ${this.options.timeout} ms`) : r;
      },
      (err: unknown) => {
        clearTimeout(timer);
        return err instanceof Error ? err : new Error(String(err));
      },
    );
  }

  private spool(batch: Pending<V>[], items: SpoolItem<V>[]): void {
    const ts = Date.now();
    try {
      this.log.append(
        items.map((it) => ({ run: this.run, seq: it.seq, ts, body: this.target.encode(it.value) })),
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) settle(p, null);
    this.changed();
    this.startReplay();
  }

  /** Tells listeners of `stats` the depth and age now (only when someone listens: stats() reads the log). */
  private changed(): void {
    if (this.listenerCount('stats') > 0) this.emit('stats', this.stats());
  }

  private startSpooling(cause: Error): void {
    if (this.state === 'spooling') return;
    this.state = 'spooling';
    this.lastError = cause.message;
    this.logger.warn(
      { dir: this.options.dir, err: cause.message },
      'Redis does not answer: adds go to the spool',
    );
    this.emit('spooling', cause);
  }

  private startReplay(): void {
    if (this.replaying || this.closed) return;
    this.replaying = this.replay().finally(() => {
      this.replaying = undefined;
    });
  }

  /** Sends the log to Redis in order, one batch at a time, until it is empty. */
  private async replay(): Promise<void> {
    let wait = 50;
    let force = false;
    while (!this.closed) {
      const records = this.log.read(REPLAY_BATCH);
      if (records.length === 0) {
        this.state = 'direct';
        this.lastError = null;
        this.emit('drained');
        this.changed();
        return;
      }
      // One call holds consecutive records of one run (a log may hold an earlier process's
      // run first; a hole is a call rejected by Redis or damaged bytes skipped).
      const run = records[0]!.run;
      let n = records.findIndex((r, i) => r.run !== run || r.seq !== records[0]!.seq + i);
      if (n === -1) n = records.length;
      const part: ReadRecord[] = records.slice(0, n);
      let items: SpoolItem<V>[];
      try {
        items = [];
        let weight = 0;
        for (const r of part) {
          const value = this.target.decode(r.body);
          weight += this.target.weight(value);
          if (items.length > 0 && weight > MAX_REPLAY_ITEMS) break;
          items.push({ seq: r.seq, value });
        }
        part.length = items.length;
      } catch (err) {
        // Intact bytes (the CRC matched) that do not decode: written by another version? Keep them.
        this.lastError = `spool record does not decode: ${(err as Error).message}`;
        this.logger.error({ dir: this.options.dir }, this.lastError);
        await sleep(2000);
        continue;
      }
      const result = await this.apply(run, items, force);
      if (result instanceof Error) {
        this.lastError = result.message;
        await sleep(wait);
        wait = Math.min(2000, wait * 2);
        continue;
      }
      wait = 50;
      if ('gap' in result) {
        // Every earlier record of the run is applied or gone for good (refused, damaged): go on past it.
        this.logger.warn(
          { dir: this.options.dir, run, mark: result.gap, next: part[0]!.seq },
          'spool replay: earlier records of this run are missing; continuing after them',
        );
        force = true;
        continue;
      }
      force = false;
      this.log.ack(part[part.length - 1]!, part.length);
      this.replayed += part.length;
      this.emit('replayed', part.length);
      this.changed();
    }
  }
}
