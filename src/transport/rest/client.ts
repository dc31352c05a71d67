import { EventEmitter, setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { exists } from '@ioredis/commands';
import { reconnectDelay } from '../../redis/connection.js';
import { RestBatch } from './batch.js';
import { RestReplyError } from './errors.js';
import { RestHttp } from './http.js';
import { RETRIES, type RestConnection, type RestRole } from './options.js';
import { flattenArgs, transformReply } from './replies.js';
import { evalsha, isNoScript, load, type RestScript, scriptOf } from './scripts.js';

/** Seed 002's polling: 500 ms when work was just seen, ×1.5 per empty poll, at most 5 s. */
export const POLL = { minMs: 500, factor: 1.5, maxMs: 5000 } as const;

/**
 * The REST driver: the part of ioredis' surface Hopper uses, over Upstash's REST protocol.
 * Any Redis command is a method (`client.hget(k, f)`, `client.call('XADD', ...)`), scripts
 * defined with `defineCommand` run by EVALSHA (loaded on NOSCRIPT), `pipeline()` and
 * `multi()` send one request each. There is no connection: `status` is 'ready' while the
 * endpoint answers and 'reconnecting' after a transport failure, until a probe answers.
 * Blocking reads do not exist over HTTP: BRPOP is emulated by polling (POLL), and
 * subscribe() resolves without ever delivering a message.
 */
export class RestRedis extends EventEmitter {
  status: 'ready' | 'reconnecting' | 'end' = 'ready';
  /** Shaped like ioredis' options where Hopper reads them: host and port for messages, the token as the secret to scrub. */
  readonly options: {
    host: string;
    port: number;
    db: number;
    password: string;
    username?: string;
    rest: true;
  };
  readonly http: RestHttp;
  /** Shas this client has seen loaded; cleared per script on NOSCRIPT. */
  readonly loaded = new Set<string>();
  private readonly scripts = new Map<string, RestScript>();
  private readonly stopped = new AbortController();
  private idleMs: number = POLL.minMs;
  private probing = false;

  constructor(
    private readonly connection: Required<RestConnection>,
    private readonly role: RestRole,
  ) {
    super();
    const url = new URL(connection.url);
    this.options = {
      host: url.hostname,
      port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      db: 0,
      password: connection.token,
      rest: true,
    };
    this.http = new RestHttp(connection.url, connection.token, connection.timeoutMs, RETRIES[role]);
    setMaxListeners(0, this.stopped.signal);
    this.http.onDown = (err) => this.markDown(err);
    this.http.onUp = () => this.markUp();
    process.nextTick(() => {
      if (this.status === 'ready') this.emit('ready');
    });
    const proxy = new Proxy(this, {
      get(target, prop, receiver) {
        if (typeof prop !== 'string' || prop in target) return Reflect.get(target, prop, receiver);
        // ioredis' `nameBuffer` variants: the same call, replies as Buffers.
        const binary = prop.endsWith('Buffer');
        const base = binary ? prop.slice(0, -6) : prop;
        const script = target.scripts.get(base);
        if (script) return async (...a: unknown[]) => target.runScript(script, flattenArgs(a), binary);
        const name = base.toLowerCase();
        if (exists(name)) return async (...a: unknown[]) => target.command(name, flattenArgs(a), binary);
        return undefined;
      },
    });
    // biome-ignore lint/correctness/noConstructorReturn: commands are methods, as on ioredis
    return proxy;
  }

  /** Any command by name, as ioredis' `call`. */
  async call(command: string, ...args: unknown[]): Promise<unknown> {
    return this.command(command.toLowerCase(), flattenArgs(args));
  }

  async command(name: string, args: string[], binary = false): Promise<unknown> {
    return transformReply(name, await this.http.post('', [name, ...args], binary));
  }

  /** As ioredis: afterwards `client[name](numKeys, ...keys, ...args)` runs the script. */
  defineCommand(name: string, definition: { lua: string }): void {
    this.scripts.set(name, scriptOf(definition.lua));
  }

  scriptNamed(name: string): RestScript | undefined {
    return this.scripts.get(name);
  }

  /** EVALSHA; a script not known to be loaded goes with its SCRIPT LOAD in one pipeline request. */
  async runScript(script: RestScript, args: string[], binary = false): Promise<unknown> {
    if (this.loaded.has(script.sha)) {
      try {
        return await this.http.post('', evalsha(script, args), binary);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        this.loaded.delete(script.sha);
      }
    }
    const [loaded, ran] = (await this.http.post(
      'pipeline',
      [load(script), evalsha(script, args)],
      binary,
    )) as {
      result?: unknown;
      error?: string;
    }[];
    if (loaded?.error === undefined) this.loaded.add(script.sha);
    if (ran?.error !== undefined) throw new RestReplyError(ran.error);
    return ran?.result;
  }

  pipeline(commands?: unknown[][]): RestBatch {
    return this.batch(false, commands);
  }

  multi(commands?: unknown[][] | { pipeline: boolean }): RestBatch {
    return this.batch(true, Array.isArray(commands) ? commands : undefined);
  }

  private batch(atomic: boolean, commands?: unknown[][]): RestBatch {
    const b = new RestBatch(this, atomic);
    for (const [name, ...args] of commands ?? []) b.call(String(name), ...args);
    return b;
  }

  /**
   * BRPOP by polling, seed 002's way: RPOP each key at once (as BRPOP returns at once when
   * a list holds something), then after each wait step (POLL: 500 ms, ×1.5 per empty step,
   * at most 5 s) until the timeout (seconds, 0 for none) or disconnect(). No poll at the
   * deadline: the caller (a worker) fetches then anyway.
   */
  async brpop(...args: unknown[]): Promise<[string, string] | null> {
    const flat = flattenArgs(args);
    const timeout = Number(flat.pop());
    const deadline = timeout > 0 ? Date.now() + timeout * 1000 : Number.POSITIVE_INFINITY;
    while (this.status !== 'end') {
      const popped = (await this.pipeline(flat.map((k) => ['rpop', k])).exec()) as [
        Error | null,
        string | null,
      ][];
      const i = popped.findIndex(([err, v]) => !err && v !== null);
      if (i >= 0) {
        this.resetPoll();
        return [flat[i]!, popped[i]![1]!];
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const step = Math.min(this.idleMs, left);
      await sleep(step, undefined, { signal: this.stopped.signal }).catch(() => {});
      if (step === this.idleMs) this.idleMs = Math.min(this.idleMs * POLL.factor, POLL.maxMs);
      if (Date.now() >= deadline) return null;
    }
    return null;
  }

  /** Work was seen (a fetch brought jobs): the next wait polls soon again. */
  resetPoll(): void {
    this.idleMs = POLL.minMs;
  }

  /** How long a worker may wait between fetches when idle (over TCP it blocks 2 s at most). */
  readonly pollMaxMs = POLL.maxMs;

  /** No pub/sub over HTTP: resolves with the channel count, and no message ever arrives. */
  async subscribe(...channels: unknown[]): Promise<number> {
    return flattenArgs(channels).length;
  }

  async unsubscribe(): Promise<number> {
    return 0;
  }

  duplicate(): RestRedis {
    return new RestRedis(this.connection, this.role);
  }

  async quit(): Promise<'OK'> {
    this.disconnect();
    return 'OK';
  }

  disconnect(): void {
    if (this.status === 'end') return;
    this.status = 'end';
    this.stopped.abort();
    this.http.close();
    this.emit('close');
    this.emit('end');
  }

  private markDown(err: Error): void {
    if (this.status !== 'ready') return;
    this.status = 'reconnecting';
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.emit('reconnecting');
    void this.probe();
  }

  private markUp(): void {
    if (this.status !== 'reconnecting') return;
    this.status = 'ready';
    this.emit('ready');
  }

  /** While down, PING with backoff so the status comes back without waiting for a caller. */
  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    for (let attempt = 0; this.status === 'reconnecting'; attempt++) {
      await sleep(reconnectDelay(attempt), undefined, { signal: this.stopped.signal }).catch(() => {});
      await this.http.post('', ['ping'], false, 0).catch(() => {});
    }
    this.probing = false;
  }
}
