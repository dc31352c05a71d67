import { readChildren } from '../../flow/children.js';
import type { FlowChild } from '../../flow/types.js';
import type { OpenSpan } from '../../tracing/attempt.js';
import { JobDeferredError, ValidationError } from '../../util/errors.js';
import { decodeRecord } from '../record.js';
import type { Job, JobOptions } from '../types.js';
import { MAX_DELAY_MS } from '../validate.js';
import type { Annotator } from './annotator.js';

/** A job in a worker's hands: what the handler sees, plus the lease token that acknowledges it. */
export class HeldJob<D = unknown> implements Job<D> {
  readonly name: string;
  readonly data: D;
  readonly opts: JobOptions;
  readonly timestamp: number;
  /** When the current attempt must end (ms since epoch), 0 for no limit. */
  deadline = 0;
  /** performance.now() when the current attempt started. */
  startedAt = 0;
  /** The current attempt's OpenTelemetry span, while tracing is on. */
  span: OpenSpan | undefined;
  /** Set by job.snooze / job.rateLimit: how the attempt ends, whatever the handler then does. */
  deferral: { kind: 'snooze' | 'limit'; ms: number } | undefined;
  /** Set by the worker: told of each progress value once it is stored. */
  onProgress: ((value: unknown) => void) | undefined;
  private controller: AbortController | undefined;
  private abortReason: unknown;

  constructor(
    readonly id: string,
    record: string,
    readonly attemptsMade: number,
    readonly token: string,
    private readonly notes: Annotator,
  ) {
    const stored = decodeRecord(record);
    this.name = stored.name;
    this.data = stored.data as D;
    this.opts = stored.opts;
    this.timestamp = stored.timestamp;
  }

  /** Made on first use: most handlers never look at it. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  async updateProgress(value: unknown): Promise<void> {
    await this.notes.progress(this.id, this.token, value);
    this.onProgress?.(value);
  }

  log(line: string): Promise<void> {
    return this.notes.log(this.id, this.token, line);
  }

  children(): Promise<FlowChild[]> {
    return readChildren(this.notes.client, this.notes.keys, this.id, this.notes.prefix);
  }

  snooze(ms: number): JobDeferredError {
    return this.defer('snooze', ms);
  }

  rateLimit(ms: number): JobDeferredError {
    return this.defer('limit', ms);
  }

  private defer(kind: 'snooze' | 'limit', ms: number): JobDeferredError {
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS)
      throw new ValidationError('ms', `must be an integer from 0 to ${MAX_DELAY_MS}, got ${String(ms)}`);
    this.deferral = { kind, ms };
    return new JobDeferredError(
      kind === 'snooze'
        ? `job ${this.id} snoozed for ${ms} ms`
        : `queue rate limited for ${ms} ms by job ${this.id}`,
    );
  }

  /** Whether the attempt was aborted (timeout, cancel, close). */
  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  abort(reason: Error): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
