import type { Redis } from 'ioredis';
import { callScript } from '../../redis/scripts.js';
import { Coalescer } from '../../util/coalescer.js';
import { JobStateError, ValidationError } from '../../util/errors.js';
import type { QueueKeys } from '../keys.js';
import { scriptKeys } from '../script-keys.js';
import { LOG_LINES } from '../types.js';

const MAX_PROGRESS_BYTES = 64 * 1024;
const MAX_LINE = 4096;

interface Note {
  kind: 'p' | 'l';
  id: string;
  token: string;
  value: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Carries handlers' progress values and log lines to Redis: every note made in
 * one turn of the event loop goes in one annotate.lua call, so a handler that
 * logs in a loop costs one round trip per turn, not per line.
 */
export class Annotator {
  private readonly coalescer = new Coalescer<Note>((batch) => this.send(batch), 500);

  constructor(
    /** Also read by HeldJob.children() (a flow parent's children). */
    readonly client: Redis,
    readonly keys: QueueKeys,
    /** Read by HeldJob.children(), to name a partitioned queue's children by its name. */
    readonly prefix: string,
  ) {}

  progress(id: string, token: string, value: unknown): Promise<void> {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      return Promise.reject(
        new ValidationError('progress', `is not JSON-serialisable: ${(err as Error).message}`),
      );
    }
    if (json === undefined)
      return Promise.reject(new ValidationError('progress', 'is not JSON-serialisable'));
    if (Buffer.byteLength(json) > MAX_PROGRESS_BYTES)
      return Promise.reject(
        new ValidationError('progress', `is over ${MAX_PROGRESS_BYTES} bytes serialised`),
      );
    return this.note('p', id, token, json);
  }

  log(id: string, token: string, line: string): Promise<void> {
    if (typeof line !== 'string') return Promise.reject(new ValidationError('line', 'must be a string'));
    // One stored line per call: newlines inside would split it on reading.
    return this.note('l', id, token, line.replace(/\r?\n/g, ' ').slice(0, MAX_LINE));
  }

  private note(kind: 'p' | 'l', id: string, token: string, value: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.coalescer.push({ kind, id, token, value, resolve, reject }, 1),
    );
  }

  private send(batch: Note[]): void {
    const args: (string | number)[] = [LOG_LINES];
    for (const n of batch) args.push(n.kind, n.id, n.token, n.value);
    callScript<string[]>(this.client, 'annotate', scriptKeys(this.keys), args).then(
      (refused) => {
        const lost = new Set(refused);
        for (const n of batch) {
          if (lost.has(n.id))
            n.reject(new JobStateError(`job ${n.id}: this worker no longer holds it (lease lost)`));
          else n.resolve();
        }
      },
      (err) => {
        for (const n of batch) n.reject(err);
      },
    );
  }
}
