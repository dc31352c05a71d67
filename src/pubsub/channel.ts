import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient, resolveConnection } from '../redis/connection.js';
import { redactError } from '../redis/redact.js';
import { HopperError, ValidationError } from '../util/errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { type SseOptions, serveSse } from './sse.js';
import { encodeMessage, escapeGlob, validateChannelName } from './validate.js';

export interface ChannelOptions {
  /** Redis URL or ioredis options; defaults to REDIS_URL, then redis://127.0.0.1:6379. */
  connection?: ConnectionOptions;
  /** Put before every channel name in Redis (`<prefix>:<channel>`). Default `hopper:ch`. */
  prefix?: string;
  /** Where handler errors go when nobody listens to the 'error' event. */
  logger?: Logger;
}

export interface SubscribeOptions {
  /** Treat the name as a Redis glob pattern (`orders.*`, `user.?`, `[ab].x`) rather than an exact channel. */
  pattern?: boolean;
}

/** Gets each message (JSON-decoded) and the channel it was published on (without the prefix). */
export type MessageHandler<T = unknown> = (message: T, channel: string) => unknown;

/** Removes one handler; the Redis subscription goes when its last handler does. Safe to call twice. */
export type Unsubscribe = () => Promise<void>;

/** Context passed with every 'error' event. */
export interface ChannelErrorContext {
  /** The channel the message came on (without prefix), when the error came from a handler or a bad message. */
  channel?: string;
  /** What went wrong: a handler threw, a message was not JSON, or the subscriber connection failed. */
  source: 'handler' | 'decode' | 'connection' | 'sse';
}

/** The Channel was closed; it does not publish or subscribe any more. */
export class ChannelClosedError extends HopperError {
  override name = 'ChannelClosedError';
}

/** One Redis-level subscription (a channel or a pattern) and the local handlers behind it. */
interface Subscription {
  kind: 'channel' | 'pattern';
  /** The name as Redis knows it, prefix included. */
  redisName: string;
  handlers: Set<MessageHandler>;
  /** Redis has acknowledged this subscription on the current connection. */
  confirmed: boolean;
  /** Serialises SUBSCRIBE/UNSUBSCRIBE for this name so replies cannot overtake each other. */
  chain: Promise<void>;
}

/**
 * Pub/sub over Redis: JSON messages, exact channels and patterns, many handlers on
 * one dedicated subscriber connection. Delivery is at-most-once: a message published
 * while the subscriber is disconnected is lost (see docs/pubsub-and-locks.md).
 *
 * Events: 'error' (err, ChannelErrorContext), 'resubscribed' (count) after a reconnect.
 */
export class Channel extends EventEmitter {
  readonly prefix: string;
  private readonly connection: ConnectionOptions | undefined;
  private readonly logger: Logger;
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;
  private readonly subs = new Map<string, Subscription>();
  private readonly streams = new Set<ServerResponse>();
  private closed = false;
  private everReady = false;
  /** Connection errors are logged once per outage, not once per reconnect attempt. */
  private outageLogged = false;

  constructor(options: ChannelOptions = {}) {
    super();
    const prefix = options.prefix ?? 'hopper:ch';
    if (typeof prefix !== 'string' || prefix.length === 0)
      throw new ValidationError('prefix', 'must be a non-empty string');
    this.prefix = prefix;
    // Parse now so a bad URL fails in the constructor, not on first use.
    this.connection = options.connection;
    resolveConnection(options.connection);
    this.logger = options.logger ?? defaultLogger('hopper:channel');
  }

  /**
   * Publishes one JSON-serialisable message. Resolves to the number of subscriber
   * connections Redis delivered it to (0 when nobody listens: the message is gone).
   */
  async publish(channel: string, message: unknown): Promise<number> {
    validateChannelName('channel', channel);
    const text = encodeMessage(message);
    if (this.closed) throw new ChannelClosedError('channel is closed');
    if (!this.publisher) {
      this.publisher = createClient(this.connection, 'producer');
      this.publisher.on('error', () => {}); // reconnects on its own; failed publishes reject to the caller
    }
    return this.publisher.publish(this.redisName(channel), text);
  }

  /**
   * Calls `handler` for every message on `channel` (or on every channel matching
   * the pattern). Resolves once Redis has confirmed the subscription, so a message
   * published after that reaches the handler; resolves to the function that removes it.
   */
  async subscribe<T = unknown>(
    channel: string,
    handler: MessageHandler<T>,
    options: SubscribeOptions = {},
  ): Promise<Unsubscribe> {
    const pattern = options.pattern === true;
    validateChannelName(pattern ? 'pattern' : 'channel', channel);
    if (typeof handler !== 'function') throw new ValidationError('handler', 'must be a function');
    if (this.closed) throw new ChannelClosedError('channel is closed');
    this.ensureSubscriber();
    const kind = pattern ? 'pattern' : 'channel';
    const redisName = pattern ? `${escapeGlob(this.prefix)}:${channel}` : this.redisName(channel);
    const key = `${kind[0]}:${redisName}`;
    let sub = this.subs.get(key);
    if (!sub) {
      sub = { kind, redisName, handlers: new Set(), confirmed: false, chain: Promise.resolve() };
      this.subs.set(key, sub);
    }
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry: MessageHandler = (message, ch) => handler(message as T, ch);
    sub.handlers.add(entry);
    const current = sub;
    let removed = false;
    const unsubscribe: Unsubscribe = async () => {
      if (removed) return;
      removed = true;
      current.handlers.delete(entry);
      if (current.handlers.size === 0) await this.sync(key, current);
    };
    try {
      await this.sync(key, current);
    } catch (err) {
      await unsubscribe().catch(() => {});
      throw err;
    }
    return unsubscribe;
  }

  /**
   * A Node `(req, res)` handler streaming the channel's messages as Server-Sent
   * Events. Under Fastify: `reply.hijack(); handler(request.raw, reply.raw)`.
   * `channel` may be a function of the request (e.g. a channel per user).
   */
  sseHandler(
    channel: string | ((req: IncomingMessage) => string),
    options: SseOptions = {},
  ): (req: IncomingMessage, res: ServerResponse) => void {
    if (typeof channel === 'string') validateChannelName(options.pattern ? 'pattern' : 'channel', channel);
    else if (typeof channel !== 'function')
      throw new ValidationError('channel', 'must be a string or a function of the request');
    return serveSse(this, this.streams, channel, options);
  }

  /** Number of handlers currently subscribed (all channels and patterns). */
  get handlerCount(): number {
    let n = 0;
    for (const sub of this.subs.values()) n += sub.handlers.size;
    return n;
  }

  /** Ends every SSE stream, drops every subscription and closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const res of this.streams) res.end();
    this.streams.clear();
    for (const sub of this.subs.values()) sub.handlers.clear();
    this.subs.clear();
    await Promise.all(
      [this.subscriber, this.publisher].map(async (client) => {
        if (!client) return;
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }),
    );
  }

  /** Reports an error (redacted): to 'error' listeners if there are any, else to the logger. Never throws. Used by the SSE bridge too. */
  report(err: unknown, context: ChannelErrorContext): void {
    const clean = redactError(err);
    if (this.listenerCount('error') > 0) this.emit('error', clean, context);
    else this.logger.error({ err: clean, ...context }, 'hopper channel error');
  }

  private redisName(channel: string): string {
    return `${this.prefix}:${channel}`;
  }

  private ensureSubscriber(): Redis {
    if (this.subscriber) return this.subscriber;
    // Our own registry resubscribes after a reconnect (see onReady): ioredis's
    // autoResubscribe only knows what Redis had acknowledged before the drop, and
    // races subscriptions still in flight or made during the outage.
    const client = createClient(this.connection, 'blocking', {
      autoResubscribe: false,
      connectionName: 'hopper:subscriber',
    });
    client.on('message', (channel: string, raw: string) =>
      this.dispatch(this.subs.get(`c:${channel}`), channel, raw),
    );
    client.on('pmessage', (pattern: string, channel: string, raw: string) =>
      this.dispatch(this.subs.get(`p:${pattern}`), channel, raw),
    );
    client.on('close', () => {
      // The server forgets a connection's subscriptions with the connection.
      for (const sub of this.subs.values()) sub.confirmed = false;
    });
    client.on('ready', () => this.onReady());
    client.on('error', (err: Error) => {
      if (this.outageLogged || this.closed) return;
      this.outageLogged = true;
      this.report(err, { source: 'connection' });
    });
    this.subscriber = client;
    return client;
  }

  private onReady(): void {
    this.outageLogged = false;
    const reconnect = this.everReady;
    this.everReady = true;
    const pending = [...this.subs].filter(([, sub]) => sub.handlers.size > 0);
    Promise.all(pending.map(([key, sub]) => this.sync(key, sub)))
      .then(() => {
        if (reconnect && !this.closed) this.emit('resubscribed', pending.length);
      })
      .catch((err) => this.report(err, { source: 'connection' }));
  }

  /**
   * Brings Redis in line with the registry for one name: subscribed while it has
   * handlers, unsubscribed once it has none. Queued per name, so an UNSUBSCRIBE
   * resent after a reconnect can never undo a later SUBSCRIBE.
   */
  private sync(key: string, sub: Subscription): Promise<void> {
    const step = async () => {
      if (this.closed || !this.subscriber) return;
      const want = sub.handlers.size > 0;
      if (want && !sub.confirmed) {
        if (sub.kind === 'channel') await this.subscriber.subscribe(sub.redisName);
        else await this.subscriber.psubscribe(sub.redisName);
        sub.confirmed = true;
      } else if (!want && sub.confirmed) {
        if (sub.kind === 'channel') await this.subscriber.unsubscribe(sub.redisName);
        else await this.subscriber.punsubscribe(sub.redisName);
        sub.confirmed = false;
      }
      // Forget names nobody wants, so many short-lived subscriptions do not grow the map.
      if (!want && !sub.confirmed && this.subs.get(key) === sub) this.subs.delete(key);
    };
    const run = sub.chain.then(step);
    sub.chain = run.catch(() => {});
    return run;
  }

  private dispatch(sub: Subscription | undefined, channel: string, raw: string): void {
    if (!sub || sub.handlers.size === 0) return;
    const name = channel.startsWith(`${this.prefix}:`) ? channel.slice(this.prefix.length + 1) : channel;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      this.report(new Error(`message on ${name} is not JSON; dropped`), { channel: name, source: 'decode' });
      return;
    }
    // A copy: a handler may unsubscribe itself or others while we loop.
    for (const handler of [...sub.handlers]) {
      try {
        const result = handler(message, name);
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          (result as Promise<unknown>).then(undefined, (err) =>
            this.report(err, { channel: name, source: 'handler' }),
          );
        }
      } catch (err) {
        this.report(err, { channel: name, source: 'handler' });
      }
    }
  }
}
