import { BUCKETS, bucketOf } from './buckets.js';
import { COUNTERS, type Counter, type Timing } from './types.js';

/** Hash field of a histogram bucket and of a histogram's sum (µs): `e:12`, `w:sum`. */
const PREFIX: Record<Timing, string> = { exec: 'e', wait: 'w' };
export const bucketField = (t: Timing, k: number) => `${PREFIX[t]}:${k}`;
export const sumField = (t: Timing) => `${PREFIX[t]}:sum`;
const INDEX = Object.fromEntries(COUNTERS.map((c, i) => [c, i])) as Record<Counter, number>;

/**
 * What one process recorded since its last flush: plain numbers and arrays, so
 * recording a job costs a few additions and no allocation.
 */
export class Tally {
  readonly counts = new Float64Array(COUNTERS.length);
  readonly buckets: Record<Timing, Uint32Array> = {
    exec: new Uint32Array(BUCKETS),
    wait: new Uint32Array(BUCKETS),
  };
  readonly sumsUs: Record<Timing, number> = { exec: 0, wait: 0 };
  /** Failed jobs as JSON, oldest first, at most `keep`. */
  failures: string[] = [];
  empty = true;

  count(c: Counter, n: number): void {
    this.counts[INDEX[c]]! += n;
    this.empty = false;
  }

  timing(t: Timing, ms: number): void {
    this.buckets[t][bucketOf(ms)]!++;
    if (ms > 0) this.sumsUs[t] += ms * 1000;
    this.empty = false;
  }

  failure(json: string, keep: number): void {
    this.failures.push(json);
    if (this.failures.length > keep) this.failures.shift();
    this.empty = false;
  }

  /** Field/delta pairs of everything non-zero, flat, as the script takes them. */
  pairs(): (string | number)[] {
    const out: (string | number)[] = [];
    COUNTERS.forEach((c, i) => {
      if (this.counts[i]) out.push(c, this.counts[i]!);
    });
    for (const t of ['exec', 'wait'] as const) {
      const b = this.buckets[t];
      for (let k = 0; k < b.length; k++) if (b[k]) out.push(bucketField(t, k), b[k]!);
      const sum = Math.round(this.sumsUs[t]);
      if (sum) out.push(sumField(t), sum);
    }
    return out;
  }

  /** Adds another tally into this one (a flush that failed is retried with the next). */
  merge(other: Tally, keep: number): void {
    if (other.empty) return;
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    for (const t of ['exec', 'wait'] as const) {
      const mine = this.buckets[t];
      const theirs = other.buckets[t];
      for (let k = 0; k < mine.length; k++) mine[k]! += theirs[k]!;
      this.sumsUs[t] += other.sumsUs[t];
    }
    this.failures = [...other.failures, ...this.failures].slice(-keep);
    this.empty = false;
  }
}
