import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { Coalescer } from '../util/coalescer.js';
import type { QueueKeys } from './keys.js';
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

/**
 * Coalesces concurrent adds: every add() made in the same turn of the event loop
 * goes to Redis in one add.lua call. Several batches may be in flight at once, so
 * Node prepares the next batch while Redis runs the previous one.
 */
export class AddBatcher {
  private readonly coalescer: Coalescer<Pending>;

  constructor(
    private readonly client: Redis,
    private readonly keys: QueueKeys,
    /** Told how many jobs each successful call added (metrics). */
    private readonly onAdded?: (count: number) => void,
    // One call carries at most this many jobs (Lua's unpack() has a stack limit).
    maxBatch = 1000,
  ) {
    this.coalescer = new Coalescer((batch) => this.send(batch), maxBatch);
  }

  addOne(job: PreparedJob): Promise<string> {
    return new Promise((resolve, reject) => this.coalescer.push({ job, resolve, reject }, 1));
  }

  add(jobs: PreparedJob[]): Promise<string[]> {
    return new Promise((resolve, reject) => this.coalescer.push({ jobs, resolve, reject }, jobs.length));
  }

  private send(batch: Pending[]): void {
    const keys = [...scriptKeys(this.keys)];
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
    callScript<[number, ...string[]]>(this.client, 'add', keys, [count, plain.join(SEP), ...other]).then(
      ([base, ...otherIds]) => {
        this.onAdded?.(count);
        let nextPlain = base;
        let nextOther = 0;
        const idOf = (j: PreparedJob) => (isPlain(j) ? String(++nextPlain) : otherIds[nextOther++]!);
        for (const p of batch) {
          if ('job' in p) p.resolve(idOf(p.job));
          else p.resolve(p.jobs.map(idOf));
        }
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}

/** Jobs add.lua takes on its fast path: generated id, priority 0, no delay, group or dedup. */
const isPlain = (j: PreparedJob) =>
  j.id === '' && j.priority === 0 && j.delay === 0 && j.group === '' && j.dedupMode === '';
