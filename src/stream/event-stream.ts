import type { Redis } from 'ioredis';
import { clientPassword, createClient } from '../redis/connection.js';
import { redactError } from '../redis/redact.js';
import { callScript, defineScripts } from '../redis/scripts.js';
import { SpooledProducer, type SpoolStats, validateSpoolOptions } from '../spool/index.js';
import { SpoolReporter, spoolReportsKey } from '../spool/report.js';
import { HopperError, ValidationError } from '../util/errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { AppendBatcher } from './append-batcher.js';
import { readInfo } from './info.js';
import { type StreamKeys, streamKeys } from './keys.js';
import { streamScripts } from './scripts.js';
import { type SpooledEvents, streamSpoolTarget } from './spool-target.js';
import type { EventStreamOptions, StreamInfo } from './types.js';
import { integerOption, serializeEvent, validateName } from './validate.js';

/** One trim call removes at most this many entries (its XRANGE reads that many ids). */
const TRIM_STEP = 10_000;

/**
 * The producer side of an event stream: appends events (coalesced into one round
 * trip per event-loop turn) and, when `maxLen` is set, trims on a timer without ever
 * dropping an entry a consumer group has not acknowledged (trim.lua).
 */
export class EventStream {
  readonly name: string;
  readonly prefix: string;
  readonly keys: StreamKeys;
  readonly maxLen: number | undefined;
  private readonly client: Redis;
  private readonly batcher: AppendBatcher;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private trimming = false;
  private closed = false;
  /** With the `spool` option: where appends go while Redis does not answer. An EventEmitter (see Queue.spool). */
  readonly spool: SpooledProducer<SpooledEvents> | undefined;
  private spooledIds = 0;
  /** Publishes the spool's depth and age to Redis while it holds records (docs/spool.md). */
  private spoolReporter: SpoolReporter | undefined;

  constructor(name: string, options: EventStreamOptions = {}) {
    this.name = validateName('name', name);
    this.prefix = validateName('prefix', options.prefix ?? 'hopper');
    this.maxLen = options.maxLen === undefined ? undefined : integerOption('maxLen', options.maxLen, 0, 1);
    const trimInterval = integerOption('trimInterval', options.trimInterval, 5000, 10);
    const spool = options.spool === undefined ? undefined : validateSpoolOptions('spool', options.spool);
    this.keys = streamKeys(this.prefix, this.name);
    this.logger = options.logger ?? defaultLogger('hopper:stream');
    this.client = createClient(options.connection, 'producer');
    this.client.on('error', () => {}); // reconnects on its own; callers see failed commands
    defineScripts(this.client, streamScripts);
    this.batcher = new AppendBatcher(this.client, this.keys);
    if (spool) {
      try {
        this.spool = new SpooledProducer(spool, streamSpoolTarget(this.client, this.keys), this.logger);
        this.spoolReporter = new SpoolReporter(
          this.client,
          spoolReportsKey(this.keys.tag),
          this.spool,
          spool.dir,
        );
      } catch (err) {
        this.client.disconnect();
        throw err;
      }
    }
    if (this.maxLen !== undefined) {
      this.timer = setInterval(() => this.trimTick(), trimInterval);
      this.timer.unref();
    }
  }

  /** Appends one event; resolves to its entry id. */
  async append(event: unknown): Promise<string> {
    const json = serializeEvent('event', event);
    this.checkOpen();
    const [id] = await this.send([json], false);
    return id!;
  }

  /**
   * Appends events in order, each in its own entry; resolves to their entry ids in the
   * same order. All or nothing is validated first.
   */
  async appendMany(events: unknown[]): Promise<string[]> {
    return this.appendJson(serializeAll(events));
  }

  /**
   * Appends events in order as one entry (one XADD however many events; several entries
   * past 1000 events). Resolves to one id per event, `<entryId>:<index>`, the index
   * counting from 0 within the entry. A processor hands each event to its sink as its
   * own StreamEntry with that id, and dead-letters a rejected event alone; the entry is
   * acknowledged once all its events are written or dead-lettered. Cheaper than
   * appendMany for events that arrive together (an HTTP request's, say): one entry to
   * append, read and acknowledge instead of one per event.
   */
  async appendBatch(events: unknown[]): Promise<string[]> {
    return this.appendJson(serializeAll(events), { together: true });
  }

  /**
   * Appends events given as JSON text, stored as is: no replacer pass, no second
   * serialisation. For callers whose events are JSON by construction (a parsed request
   * body, say); each string should be one JSON value (a consumer hands anything else to
   * the sink as an object of the entry's fields). `together`: one entry for all, as
   * appendBatch; otherwise one entry each, as appendMany.
   */
  async appendJson(json: string[], options: { together?: boolean } = {}): Promise<string[]> {
    if (!Array.isArray(json)) throw new ValidationError('json', 'must be an array of JSON strings');
    for (let i = 0; i < json.length; i++)
      if (typeof json[i] !== 'string' || json[i]!.length === 0)
        throw new ValidationError(`json[${i}]`, 'must be a non-empty JSON string');
    this.checkOpen();
    if (json.length === 0) return [];
    return this.send(json, options.together === true);
  }

  private send(json: string[], together: boolean): Promise<string[]> {
    if (!this.spool) return this.batcher.append(json, together).catch(this.redact);
    const ids = json.map(() => `spool-${this.spool!.run}-${(++this.spooledIds).toString(36)}`);
    // The spool's own errors (SpoolFullError) carry no secret and keep their class.
    return this.spool
      .submit({ events: json, together }, ids, json.length)
      .catch((err) => (err instanceof HopperError ? Promise.reject(err) : this.redact(err)));
  }

  /** The spool's depth, bytes, oldest record's age and state; null without the `spool` option. */
  spoolStats(): SpoolStats | null {
    return this.spool?.stats() ?? null;
  }

  length(): Promise<number> {
    return this.client.xlen(this.keys.stream).catch(this.redact);
  }

  info(): Promise<StreamInfo> {
    return readInfo(this.client, this.keys).catch(this.redact);
  }

  /**
   * Trims towards `maxLen` (or the option), never removing an entry some group has
   * pending or not yet delivered. Resolves to the number of entries removed.
   */
  async trim(maxLen = this.maxLen): Promise<number> {
    if (maxLen === undefined)
      throw new ValidationError('maxLen', 'is required: the stream has no maxLen option');
    const limit = integerOption('maxLen', maxLen, 0, 1);
    let removed = 0;
    for (;;) {
      const n = await callScript<number>(this.client, 'trim', [this.keys.stream], [limit, TRIM_STEP]);
      removed += n;
      if (n < TRIM_STEP) return removed;
    }
  }

  private trimTick(): void {
    if (this.trimming) return;
    this.trimming = true;
    this.trim()
      .then(
        (n) => n > 0 && this.logger.debug({ stream: this.name, trimmed: n }, 'stream trimmed'),
        (err) => this.logger.warn({ stream: this.name, err: this.clean(err).message }, 'stream trim failed'),
      )
      .finally(() => {
        this.trimming = false;
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.spoolReporter?.stop();
    await this.spool?.close();
    await this.client.quit().catch(() => {});
    this.client.disconnect();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`event stream ${this.name} is closed`);
  }

  private clean(err: unknown): Error {
    return redactError(err, [clientPassword(this.client)]);
  }

  private readonly redact = (err: unknown): never => {
    throw this.clean(err);
  };
}

function serializeAll(events: unknown[]): string[] {
  if (!Array.isArray(events)) throw new ValidationError('events', 'must be an array');
  return events.map((e, i) => serializeEvent(`events[${i}]`, e));
}
