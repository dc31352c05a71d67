import type { Redis } from 'ioredis';
import { reconnectDelay } from '../../redis/connection.js';
import { callScriptDurably, type Durability } from '../../redis/scripts.js';
import { within } from '../../util/within.js';
import type { QueueKeys } from '../keys.js';
import { SEP } from '../record.js';
import { scriptKeys } from '../script-keys.js';
import type { WorkerReport } from './fetcher.js';
import type { Outcome } from './processor.js';

/** An outcome with what settle.lua needs to apply it. */
export interface Settlement {
  outcome: Outcome;
  /** Result JSON for a completion, error JSON for a failure. */
  payload: string;
  /** Ms before the next attempt; -1 when the job is done failing. Unused for completions. */
  retryDelay: number;
  keepAge: number;
  keepCount: number;
  /** job.snooze or job.rateLimit ended the attempt: no event, no metrics. */
  deferred?: boolean;
}

const MAX_PER_CALL = 1000;

/**
 * Acknowledges outcomes in batches: whatever finished while the previous call was
 * in flight goes in the next settle.lua call. One call is in flight at a time; on
 * a Redis error the batch is kept and retried with backoff, so nothing finished
 * is forgotten while Redis restarts.
 */
export class Acker {
  private pending: Settlement[] = [];
  private inFlight = false;
  /** A batch whose call failed: resent as it was, with the same request id (settle.lua is idempotent per id). */
  private retrying: { request: number; batch: Settlement[] } | undefined;
  private request = 0;
  /** The request id of the last call Redis answered (-1: none): Redis records it (heartbeat.lua). */
  applied = -1;
  private failures = 0;
  private idle: (() => void)[] = [];

  /** The batch of the call in flight (already sent: Redis applies it before any later call). */
  private sent: Settlement[] = [];

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    private readonly repliesKey: string,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly report: () => WorkerReport,
    /** `sentAt`: performance.now() when the call was sent; `state`: WorkerState flags. */
    private readonly onSettled: (
      applied: Settlement[],
      lost: Settlement[],
      sentAt: number,
      state: number,
    ) => void,
    private readonly onError: (err: unknown) => void,
    /** Opt-in: a settle call counts once it reached this many replicas (WAIT). */
    private readonly durability?: Durability,
  ) {}

  get size(): number {
    return this.pending.length + (this.inFlight ? 1 : 0) + (this.retrying ? 1 : 0);
  }

  /** Outcomes pushed but not known to be applied: their jobs are still this worker's in Redis. */
  *unsettled(): Iterable<Settlement> {
    yield* this.pending;
    if (this.retrying) yield* this.retrying.batch;
    yield* this.sent;
  }

  /** Outcomes waiting for a settle call not sent yet: one will be sent soon. */
  get hasUnsent(): boolean {
    return this.pending.length > 0 || this.retrying !== undefined;
  }

  /** How many of them a call sent now would still find in `active`: not those of the call in flight. */
  get unsent(): number {
    return this.pending.length + (this.retrying ? this.retrying.batch.length : 0);
  }

  push(s: Settlement): void {
    this.pending.push(s);
    if (!this.inFlight) {
      this.inFlight = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once everything pushed so far is acknowledged (or `ms` passed). */
  whenIdle(ms: number): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return within(new Promise<void>((resolve) => this.idle.push(resolve)), ms);
  }

  private flush(): void {
    const retry = this.retrying;
    this.retrying = undefined;
    const batch = retry ? retry.batch : this.pending.splice(0, MAX_PER_CALL);
    const request = retry ? retry.request : this.request++;
    if (batch.length === 0) {
      this.inFlight = false;
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const { args, ordered } = settleArgs(batch);
    const keys = scriptKeys(this.keys, this.repliesKey);
    const { reserved, seen } = this.report();
    const sentAt = performance.now();
    this.sent = batch;
    callScriptDurably<[number, ...string[]]>(
      this.client,
      'settle',
      keys,
      [request, this.workerId, this.leaseMs, reserved, seen, ...args],
      this.durability,
    ).then(
      ([state, ...rejected]) => {
        this.sent = [];
        this.applied = Math.max(this.applied, request);
        this.failures = 0;
        // Whatever the callback does, the loop goes on: a throw here would leave
        // every later outcome unacknowledged and its job active.
        try {
          if (rejected.length === 0) this.onSettled(ordered, [], sentAt, Number(state));
          else {
            const lost = new Set(rejected);
            this.onSettled(
              ordered.filter((s) => !lost.has(s.outcome.job.id)),
              ordered.filter((s) => lost.has(s.outcome.job.id)),
              sentAt,
              Number(state),
            );
          }
        } catch (err) {
          this.onError(err);
        }
        this.flush();
      },
      (err) => {
        this.sent = [];
        this.retrying = { request, batch };
        this.onError(err);
        setTimeout(() => this.flush(), reconnectDelay(this.failures++));
      },
    );
  }
}

/**
 * settle.lua's arguments: completions grouped by lease token and retention (a
 * group costs Redis a fixed number of calls, and its ids and results travel as
 * two joined strings), then failures one by one. Returns
 * the settlements in the order the arguments list them.
 */
function settleArgs(batch: Settlement[]): { args: (string | number)[]; ordered: Settlement[] } {
  const groups = new Map<string, Settlement[]>();
  const failed: Settlement[] = [];
  for (const s of batch) {
    if (!s.outcome.ok) {
      failed.push(s);
      continue;
    }
    const key = `${s.outcome.job.token}|${s.keepAge}|${s.keepCount}`;
    const group = groups.get(key);
    if (group) group.push(s);
    else groups.set(key, [s]);
  }
  const args: (string | number)[] = [groups.size];
  const ordered: Settlement[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const ids = group.map((s) => s.outcome.job.id).join(SEP);
    // Results of jobs deleted at once are not sent at all.
    // ... except a flow child's, which its parent reads (settle.lua puts it in the flow outbox).
    const sendResults = first.keepCount !== 0 || group.some((s) => 'parent' in s.outcome.job.opts);
    const results = sendResults ? group.map((s) => s.payload).join(SEP) : '';
    args.push(first.outcome.job.token, first.keepAge, first.keepCount, ids, results);
    ordered.push(...group);
  }
  args.push(failed.length);
  for (const s of failed) {
    args.push(s.outcome.job.id, s.outcome.job.token, s.payload, s.retryDelay, s.keepAge, s.keepCount);
    ordered.push(s);
  }
  return { args, ordered };
}
