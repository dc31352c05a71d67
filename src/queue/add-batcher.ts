import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import type { QueueKeys } from './keys.js';

/** One job ready for add.lua: everything validated and serialised. */
export interface PreparedJob {
  id: string;
  record: string;
  priority: number;
  delay: number;
  dedupKey: string | undefined;
  dedupTtl: number;
}

interface Pending {
  jobs: PreparedJob[];
  resolve: (ids: string[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces concurrent adds: every add() made in the same turn of the event loop
 * goes to Redis in one add.lua call. Several batches may be in flight at once, so
 * Node prepares the next batch while Redis runs the previous one.
 */
export class AddBatcher {
  private pending: Pending[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    private readonly maxBatch = 500,
  ) {}

  add(jobs: PreparedJob[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ jobs, resolve, reject });
      this.size += jobs.length;
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

    const k = this.keys;
    const keys = [k.wait, k.waitp, k.pri, k.delayed, k.jobs, k.seq, k.signal];
    const dedupIndex = new Map<string, number>();
    const args: (string | number)[] = [0];
    let count = 0;
    for (const p of batch) {
      for (const j of p.jobs) {
        let index = 0;
        if (j.dedupKey !== undefined) {
          index = dedupIndex.get(j.dedupKey) ?? 0;
          if (index === 0) {
            index = keys.push(j.dedupKey);
            dedupIndex.set(j.dedupKey, index);
          }
        }
        args.push(j.id, j.record, j.priority, j.delay, index, j.dedupTtl);
        count++;
      }
    }
    args[0] = count;
    callScript<string[]>(this.client, 'add', keys, args).then(
      (ids) => {
        let at = 0;
        for (const p of batch) {
          p.resolve(ids.slice(at, at + p.jobs.length));
          at += p.jobs.length;
        }
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
