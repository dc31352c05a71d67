/**
 * Collects what callers hand in during one turn of the event loop and passes it to
 * `send` together, at most `maxBatch` items per call: one round trip for many
 * calls, which is what the Redis client's per-command cost rewards. `send` is not
 * awaited, so several batches may be in flight at once.
 */
export class Coalescer<P> {
  private pending: P[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    private readonly send: (batch: P[]) => void,
    private readonly maxBatch: number,
  ) {}

  /** Adds an entry that counts as `size` items towards maxBatch. */
  push(entry: P, size: number): void {
    if (this.size > 0 && this.size + size > this.maxBatch) this.flush();
    this.pending.push(entry);
    this.size += size;
    if (this.size >= this.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is pending now (close() calls it so nothing waits for the next turn). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.size = 0;
    this.send(batch);
  }
}
