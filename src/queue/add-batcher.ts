import { randomBytes } from 'node:crypto';
import { type Redis, ReplyError } from 'ioredis';
import { callScriptDurably, type Durability } from '../redis/scripts.js';
import { Coalescer } from '../util/coalescer.js';
import { HopperError } from '../util/errors.js';
import { AddOutcomeUnknownError } from './errors.js';
import { addRequestKey, type QueueKeys } from './keys.js';
import { generatedId, type IdNumbering, PLAIN_IDS } from './partitions/layout.js';
import { SEP } from './record.js';
import { scriptKeys } from './script-keys.js';

/** One job ready for add.lua: everything validated and serialised. */
export interface PreparedJob {
  id: string;
  record: string;
  priority: number;
  delay: number;
  /** '' for none. */
  group: string;
  /** '' none, 't' throttle, 'd' debounce, 'u' until-done (see add.lua). */
  dedupMode: '' | 't' | 'd' | 'u';
  /** The throttle or debounce key's full name, or the until-done key. */
  dedupKey: string;
  dedupTtl: number;
}

/** One add() (a single job) or one addBulk() chunk waiting for the next call. */
type Pending =
  | { job: PreparedJob; resolve: (id: string) => void; reject: (err: unknown) => void }
  | { jobs: PreparedJob[]; resolve: (ids: string[]) => void; reject: (err: unknown) => void };

/** add.lua's reply: the first generated sequence number, then the other jobs' ids; -1 alone: abandoned. */
type Reply = [number, ...string[]];

/** Extra time a stored reply outlives `addTimeout`, for resolveAdd after an unknown outcome. */
export const REPLY_GRACE_MS = 60_000;

/** Redis refusals that say "not now" (nothing was run): the batch is sent again. */
const TRANSIENT = /^(LOADING|BUSY|TRYAGAIN|READONLY|MASTERDOWN|CLUSTERDOWN|NOSCRIPT)\b/;

/**
 * Coalesces concurrent adds: every add() made in the same turn of the event loop
 * goes to Redis in one add.lua call. Several batches may be in flight at once, so
 * Node prepares the next batch while Redis runs the previous one.
 *
 * Each batch carries a request id, and add.lua stores its reply under it, so a batch
 * sent twice (ioredis resends commands whose reply a dropped connection lost; this
 * class resends after errors) is applied once and answered the same. A batch is
 * resent until `addTimeout` after its first send; past that it rejects with
 * AddOutcomeUnknownError, which `Queue.resolveAdd` turns into a certain answer.
 */
export class AddBatcher {
  private readonly coalescer: Coalescer<Pending>;
  private readonly idPrefix = randomBytes(6).toString('base64url');
  private sent = 0;
  /** Batches sent and not yet settled: close() waits for them. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    /** Told how many jobs each successful call added (metrics). */
    private readonly onAdded: ((count: number) => void) | undefined,
    private readonly addTimeout: number,
    // One call carries at most this many jobs (Lua's unpack() has a stack limit).
    maxBatch = 1000,
    /** Opt-in: an add resolves only once its batch reached this many replicas (WAIT). */
    private readonly durability?: Durability,
    /** How generated ids are numbered (a partition's name their partition). */
    private readonly ids: IdNumbering = PLAIN_IDS,
  ) {
    this.coalescer = new Coalescer((batch) => this.send(batch), maxBatch);
  }

  addOne(job: PreparedJob): Promise<string> {
    return new Promise((resolve, reject) => this.coalescer.push({ job, resolve, reject }, 1));
  }

  add(jobs: PreparedJob[]): Promise<string[]> {
    return new Promise((resolve, reject) => this.coalescer.push({ jobs, resolve, reject }, jobs.length));
  }

  /** Sends what is pending now and resolves when every batch sent so far has settled. */
  async drain(): Promise<void> {
    this.coalescer.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private send(batch: Pending[]): void {
    const requestId = `${this.idPrefix}:${++this.sent}`;
    const keys = [...scriptKeys(this.keys), addRequestKey(this.keys, requestId)];
    const plain: string[] = [];
    const other: (string | number)[] = [];
    const dedupIndex = new Map<string, number>();
    let count = 0;
    const put = (j: PreparedJob) => {
      count++;
      if (isPlain(j)) {
        plain.push(j.record);
        return;
      }
      let dedup: string | number = j.dedupKey;
      if (j.dedupMode === 't' || j.dedupMode === 'd') {
        dedup = dedupIndex.get(j.dedupKey) ?? 0;
        if (dedup === 0) {
          dedup = keys.push(j.dedupKey);
          dedupIndex.set(j.dedupKey, dedup);
        }
      }
      other.push(j.id, j.record, j.priority, j.delay, j.group, j.dedupMode, dedup, j.dedupTtl);
    };
    for (const p of batch) {
      if ('job' in p) put(p.job);
      else for (const j of p.jobs) put(j);
    }
    const { step, offset } = this.ids;
    const args = [
      requestId,
      this.addTimeout + REPLY_GRACE_MS,
      count,
      plain.join(SEP),
      step,
      offset,
      ...other,
    ];
    const settled = this.call(keys, args).then(
      (reply) => {
        if (reply[0] === -1) {
          const err = new HopperError(
            `add request ${requestId} was abandoned (resolveAdd): nothing was stored`,
          );
          for (const p of batch) p.reject(err);
          return;
        }
        this.onAdded?.(count);
        const [base, ...otherIds] = reply;
        let nextPlain = base;
        let nextOther = 0;
        const idOf = (j: PreparedJob) =>
          isPlain(j) ? generatedId(++nextPlain, this.ids) : otherIds[nextOther++]!;
        for (const p of batch) {
          if ('job' in p) p.resolve(idOf(p.job));
          else p.resolve(p.jobs.map(idOf));
        }
      },
      (err) => {
        const unknown = !isDefinite(err);
        const pickers = unknown ? pickersFor(batch, this.ids) : [];
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i]!;
          if (!unknown) p.reject(err);
          else {
            const jobIds = ('job' in p ? [p.job] : p.jobs).map((j) => j.id || undefined);
            p.reject(new AddOutcomeUnknownError(requestId, jobIds, err, pickers[i]!));
          }
        }
      },
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  /**
   * Sends one batch until it is answered, Redis refuses it for good, or `addTimeout`
   * passes since the first send (also when a call hangs: a stopped server answers nothing).
   */
  private call(keys: string[], args: (string | number)[]): Promise<Reply> {
    const deadline = Date.now() + this.addTimeout;
    return new Promise<Reply>((resolve, reject) => {
      let done = false;
      let lastError: unknown = new Error('no reply from Redis');
      const timer = setTimeout(() => finish(undefined, lastError), this.addTimeout);
      const finish = (reply: Reply | undefined, err?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (reply) resolve(reply);
        else reject(err);
      };
      const attempt = (n: number) => {
        callScriptDurably<Reply>(this.client, 'add', keys, args, this.durability).then(
          (reply) => finish(reply),
          (err: unknown) => {
            lastError = err;
            if (isDefinite(err)) return finish(undefined, err);
            const wait = Math.min(1000, 50 * 2 ** n);
            if (Date.now() + wait < deadline) setTimeout(() => !done && attempt(n + 1), wait);
            else finish(undefined, err);
          },
        );
      };
      attempt(0);
    });
  }
}

/** A refusal from Redis itself (a script error, OOM) means the batch did not run: not worth resending. */
function isDefinite(err: unknown): boolean {
  return err instanceof (ReplyError as typeof Error) && !TRANSIENT.test((err as Error).message);
}

/** For each entry of the batch, a function picking its ids out of add.lua's reply. */
function pickersFor(batch: Pending[], ids: IdNumbering): ((reply: Reply) => string[])[] {
  let plainAt = 0;
  let otherAt = 1;
  return batch.map((p) => {
    const jobs = 'job' in p ? [p.job] : p.jobs;
    const slots = jobs.map((j) => (isPlain(j) ? -++plainAt : otherAt++));
    // Plain job i (1-based) gets the id of sequence number base + i; the others' ids follow the base in the reply.
    return (reply: Reply) =>
      slots.map((s) => (s < 0 ? generatedId(reply[0] - s, ids) : (reply[s] as string)));
  });
}

/** Jobs add.lua takes on its fast path: generated id, priority 0, no delay, group or dedup. */
const isPlain = (j: PreparedJob) =>
  j.id === '' && j.priority === 0 && j.delay === 0 && j.group === '' && j.dedupMode === '';
