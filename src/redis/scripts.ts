import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { HopperError } from '../util/errors.js';
import { clientPassword, isCluster } from './connection.js';
import { redactError } from './redact.js';
import { whileSlotMoves } from './slot-moving.js';

/**
 * Loads every `*.lua` file of a folder as an ioredis command named after the file.
 * ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, so an empty script
 * cache after a Redis restart costs one extra round trip, never an error.
 * A line `--@include name` is replaced by `includes/name.lua`, so helpers shared by
 * several scripts live once (`includes`: another folder's, for scripts that work on
 * that part's keys, as src/flow's do on the queue's).
 */
export function loadScripts(dir: string, includes = join(dir, 'includes')): Map<string, string> {
  const scripts = new Map<string, string>();
  const include = (name: string) => readFileSync(join(includes, `${name}.lua`), 'utf8');
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.lua')) continue;
    const source = readFileSync(join(dir, file), 'utf8').replace(/^--@include (\S+)$/gm, (_m, n: string) =>
      include(n),
    );
    scripts.set(file.slice(0, -4), source);
  }
  return scripts;
}

const defined = new WeakMap<Redis, Set<string>>();

/** Defines the scripts on a client once. Calls take `(numKeys, ...keys, ...args)`. */
export function defineScripts(client: Redis, scripts: Map<string, string>): void {
  const done = defined.get(client) ?? new Set<string>();
  for (const [name, lua] of scripts) {
    if (done.has(name)) continue;
    client.defineCommand(name, { lua });
    done.add(name);
  }
  defined.set(client, done);
}

/**
 * Calls a defined script with its keys and arguments. Errors come back without secrets
 * (see redact.ts). On a Cluster, a call refused while its slot moves (resharding) or
 * has no master yet (failover) is sent again for a while (slot-moving.ts).
 */
export function callScript<T>(
  client: Redis,
  name: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<T> {
  const fn = (client as unknown as Record<string, (...a: unknown[]) => Promise<T>>)[name];
  if (!fn) throw new Error(`script ${name} is not defined on this client`);
  return whileSlotMoves(client, () => fn.call(client, keys.length, ...keys, ...args)).catch(
    (err: unknown) => {
      throw redactError(err, [clientPassword(client)]);
    },
  );
}

/** Opt-in durability: a write counts once it reached `replicas` replicas (WAIT), within `timeoutMs`. */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

/** The write ran on the master but fewer replicas than asked confirmed it in time: a failover now may lose it. */
export class ReplicationTimeoutError extends HopperError {
  override name = 'ReplicationTimeoutError';
  constructor(
    readonly acknowledged: number,
    readonly wanted: number,
    readonly timeoutMs: number,
  ) {
    super(
      `the write was applied on the master but reached ${acknowledged} of ${wanted} replicas within ${timeoutMs} ms: a failover now may lose it`,
    );
  }
}

/**
 * callScript, then WAIT in the same pipeline, so WAIT runs on the connection (the node)
 * that took the write: on a Cluster a WAIT sent on its own would go to any node.
 * Without `durability` this is callScript.
 */
export async function callScriptDurably<T>(
  client: Redis,
  name: string,
  keys: readonly string[],
  args: readonly (string | number)[],
  durability: Durability | undefined,
): Promise<T> {
  if (!durability) return callScript<T>(client, name, keys, args);
  // A slot moving (ASK, TRYAGAIN) refuses the script without running it: send both again.
  const [reply, waitErr, acked] = await whileSlotMoves(client, async () => {
    const p = client.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & {
      wait(n: number, t: number): unknown;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    p[name]!(keys.length, ...keys, ...args);
    p.wait(durability.replicas, durability.timeoutMs);
    const replies = await p.exec();
    const [[scriptErr, reply], [waitErr, acked]] = replies as [[Error | null, T], [Error | null, number]];
    if (scriptErr) {
      // ioredis follows MOVED in a pipeline only when every command got one, and WAIT (no
      // key) answers from any node: after a failover, learn the new slot owner for the resend.
      if (/^(MOVED|ASK) /.test(scriptErr.message) && isCluster(client))
        await new Promise<void>((done) =>
          (client as unknown as { refreshSlotsCache(cb: () => void): void }).refreshSlotsCache(done),
        );
      throw scriptErr;
    }
    return [reply, waitErr, acked] as const;
  }).catch((err: unknown) => {
    throw redactError(err, [clientPassword(client)]);
  });
  if (waitErr) throw redactError(waitErr, [clientPassword(client)]);
  if (acked < durability.replicas)
    throw new ReplicationTimeoutError(acked, durability.replicas, durability.timeoutMs);
  return reply;
}
