import { decodeRecord } from '../record.js';
import type { Job, JobOptions } from '../types.js';

/** A job in a worker's hands: what the handler sees, plus the lease token that acknowledges it. */
export class HeldJob<D = unknown> implements Job<D> {
  readonly name: string;
  readonly data: D;
  readonly opts: JobOptions;
  readonly timestamp: number;
  readonly controller = new AbortController();

  constructor(
    readonly id: string,
    record: string,
    readonly attemptsMade: number,
    readonly token: string,
  ) {
    const stored = decodeRecord(record);
    this.name = stored.n;
    this.data = stored.d as D;
    this.opts = stored.o;
    this.timestamp = stored.t;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }
}
