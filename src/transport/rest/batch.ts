import { exists } from '@ioredis/commands';
import type { RestRedis } from './client.js';
import { RestReplyError } from './errors.js';
import { flattenArgs, transformReply } from './replies.js';
import { evalsha, isNoScript, load, type RestScript } from './scripts.js';

type Entry = { result?: unknown; error?: string };
type Queued = { name: string; command: string[]; script?: RestScript };
export type ExecResult = [Error | null, unknown][];

const toResult = (q: Queued, e: Entry): [Error | null, unknown] =>
  e.error !== undefined ? [new RestReplyError(e.error), null] : [null, transformReply(q.name, e.result)];

/**
 * `pipeline()` and `multi()` over REST: commands queue here (chainable, as in ioredis) and
 * `exec()` sends them as one request to /pipeline or /multi-exec, replying
 * `[error, result][]` like ioredis. Scripts this client has not loaded yet are loaded in
 * the same request (inside the transaction for multi); a pipeline entry that still meets
 * NOSCRIPT (Redis restarted and lost its script cache) did not run, and is sent again.
 */
export class RestBatch {
  private readonly queued: Queued[] = [];
  private readonly self: RestBatch;

  constructor(
    private readonly client: RestRedis,
    private readonly atomic: boolean,
  ) {
    this.self = new Proxy(this, {
      get(target, prop, receiver) {
        if (typeof prop !== 'string' || prop in target) return Reflect.get(target, prop, receiver);
        const script = client.scriptNamed(prop);
        if (script) return (...a: unknown[]) => target.push(prop, evalsha(script, flattenArgs(a)), script);
        const name = prop.toLowerCase();
        if (exists(name)) return (...a: unknown[]) => target.push(name, [name, ...flattenArgs(a)]);
        return undefined;
      },
    });
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is what callers chain on
    return this.self;
  }

  get length(): number {
    return this.queued.length;
  }

  /** Any command by name, as ioredis' `call`. */
  call(command: string, ...args: unknown[]): RestBatch {
    const name = command.toLowerCase();
    return this.push(name, [name, ...flattenArgs(args)]);
  }

  private push(name: string, command: string[], script?: RestScript): RestBatch {
    this.queued.push({ name, command, script });
    return this.self;
  }

  async exec(): Promise<ExecResult> {
    if (this.queued.length === 0) return [];
    const out = await this.send(this.queued);
    if (this.atomic) return out;
    const again = this.queued.flatMap((q, i) => (q.script && isNoScript(out[i]![0]) ? [i] : []));
    if (again.length === 0) return out;
    for (const i of again) this.client.loaded.delete(this.queued[i]!.script!.sha);
    const retried = await this.send(again.map((i) => this.queued[i]!));
    again.forEach((i, j) => {
      out[i] = retried[j]!;
    });
    return out;
  }

  private async send(queued: Queued[]): Promise<ExecResult> {
    const missing = [
      ...new Set(
        queued.flatMap((q) => (q.script && !this.client.loaded.has(q.script.sha) ? [q.script] : [])),
      ),
    ];
    const body = [...missing.map(load), ...queued.map((q) => q.command)];
    const entries = (await this.client.http.post(this.atomic ? 'multi-exec' : 'pipeline', body)) as Entry[];
    missing.forEach((s, i) => {
      if (entries[i]?.error === undefined) this.client.loaded.add(s.sha);
    });
    return queued.map((q, i) => toResult(q, entries[missing.length + i] ?? { error: 'ERR no reply' }));
  }
}
