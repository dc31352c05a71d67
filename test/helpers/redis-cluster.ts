import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type RedisProcess, startRedis } from './redis-server.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

/**
 * A real Redis Cluster for tests: 3 masters and 3 replicas, each a `redis-server
 * --cluster-enabled yes` on its own free port, joined with `redis-cli --cluster create`.
 * Start it once per test file (it takes a few seconds) and share it between that
 * file's tests. A short node timeout keeps failover tests quick.
 */
export interface RedisClusterProcess {
  nodes: RedisProcess[];
  /** `redis://h:p1,h:p2,...`: the Cluster form Hopper accepts. */
  url: string;
  /** Node ports, for the ioredis Cluster constructor. */
  seeds: { host: string; port: number }[];
  /** The node currently serving as master for a key's slot. */
  masterFor(key: string): Promise<RedisProcess>;
  /** Waits until every live node reports cluster_state:ok and agrees on the masters. */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export const CLUSTER_NODE_TIMEOUT_MS = 2000;

export async function startCluster(
  opts: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisClusterProcess> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-node-timeout',
    String(opts.nodeTimeoutMs ?? CLUSTER_NODE_TIMEOUT_MS),
    // A replica whose master died long ago may still be promoted: tests kill masters.
    '--cluster-replica-validity-factor',
    '0',
    '--appendonly',
    'yes',
  ];
  const nodes = await Promise.all(
    Array.from({ length: masters * (1 + replicas) }, () => startRedis({ aof: true, args })),
  );
  const stopAll = () => Promise.all(nodes.map((n) => n.stop())).then(() => undefined);
  try {
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `${HOST}:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const cluster: RedisClusterProcess = {
    nodes,
    url: `redis://${nodes.map((n) => `${HOST}:${n.port}`).join(',')}`,
    seeds: nodes.map((n) => ({ host: HOST, port: n.port })),
    async masterFor(key) {
      for (const node of nodes) {
        const port = await askNode(node.port, async (c) => {
          const slot = (await c.call('CLUSTER', 'KEYSLOT', key)) as number;
          const slots = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
          return slots.find(([a, b]) => slot >= a && slot <= b)?.[2][1];
        });
        if (port !== undefined) return nodes.find((n) => n.port === port)!;
      }
      throw new Error(`no live node knows who serves ${key}`);
    },
    async waitOk(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(
          nodes.map((n) =>
            askNode(n.port, async (c) =>
              String(await c.call('CLUSTER', 'INFO')).includes('cluster_state:ok'),
            ),
          ),
        );
        // Dead nodes answer undefined; every live node must say ok.
        if (states.some((s) => s === true) && states.every((s) => s !== false)) return;
        if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
        await sleep(100);
      }
    },
    stop: stopAll,
  };
  try {
    await cluster.waitOk();
    await waitForReplicas(nodes, masters * replicas);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return cluster;
}

/** One short-lived client to one node; undefined if the node does not answer. */
export async function askNode<T>(port: number, ask: (c: Redis) => Promise<T>): Promise<T | undefined> {
  const c = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    return await ask(c);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

/** Replicas must have synced before a test kills a master, or the failover has nothing to promote. */
async function waitForReplicas(nodes: RedisProcess[], expected: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const synced = await Promise.all(
      nodes.map((n) =>
        askNode(n.port, async (c) => {
          const info = await c.info('replication');
          return info.includes('role:slave') && info.includes('master_link_status:up');
        }),
      ),
    );
    if (synced.filter(Boolean).length >= expected) return;
    if (Date.now() > deadline) throw new Error('cluster replicas did not sync');
    await sleep(100);
  }
}

/** A node's cluster id (CLUSTER MYID). */
export async function nodeId(port: number): Promise<string> {
  const id = await askNode(port, (c) => c.call('CLUSTER', 'MYID') as Promise<string>);
  if (!id) throw new Error(`node ${port} does not answer`);
  return id;
}

/**
 * Moves one slot from master `from` to master `to` while clients use it, as
 * `redis-cli --cluster reshard` does: IMPORTING on the target, MIGRATING on the
 * source, MIGRATE of its keys `batch` at a time, or in about `batches` calls (`pauseMs` between them, so the
 * migration lasts long enough for clients to meet ASK and TRYAGAIN), then SETSLOT
 * NODE on both and on every other master. Returns how many keys moved.
 */
export async function migrateSlot(
  cluster: RedisClusterProcess,
  slot: number,
  from: RedisProcess,
  to: RedisProcess,
  opts: { batch?: number; pauseMs?: number; batches?: number } = {},
): Promise<number> {
  const [fromId, toId] = [await nodeId(from.port), await nodeId(to.port)];
  const src = new Redis({ host: HOST, port: from.port, maxRetriesPerRequest: 0 });
  const dst = new Redis({ host: HOST, port: to.port, maxRetriesPerRequest: 0 });
  try {
    await dst.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
    await src.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
    let moved = 0;
    // `batches`: spread the keys over about that many MIGRATE calls, whatever their number.
    const total = (await src.call('CLUSTER', 'COUNTKEYSINSLOT', slot)) as number;
    const batch = opts.batches ? Math.max(1, Math.ceil(total / opts.batches)) : (opts.batch ?? 10);
    for (;;) {
      const keys = (await src.call('CLUSTER', 'GETKEYSINSLOT', slot, batch)) as string[];
      if (keys.length === 0) break;
      await src.call('MIGRATE', HOST, to.port, '', 0, 5000, 'REPLACE', 'KEYS', ...keys);
      moved += keys.length;
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
    await dst.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    await src.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    for (const node of cluster.nodes) {
      if (node === from || node === to) continue;
      await askNode(node.port, async (c) => {
        if ((await c.info('replication')).includes('role:master'))
          await c.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      });
    }
    return moved;
  } finally {
    src.disconnect();
    dst.disconnect();
  }
}

/**
 * Queue names `<base><i>` whose hash tags `{prefix:name}` land on `count` different
 * masters (CLUSTER KEYSLOT and CLUSTER SLOTS), with the master of each.
 */
export async function namesOnMasters(
  cluster: RedisClusterProcess,
  base: string,
  count = 3,
  prefix = 'hopper',
): Promise<{ name: string; master: RedisProcess }[]> {
  const found = new Map<number, { name: string; master: RedisProcess }>();
  for (let i = 0; found.size < count && i < 500; i++) {
    const name = `${base}${i}`;
    const master = await cluster.masterFor(`{${prefix}:${name}}`);
    if (!found.has(master.port)) found.set(master.port, { name, master });
  }
  if (found.size < count) throw new Error(`no ${count} names on different masters`);
  return [...found.values()];
}

/** Waits until every replica of master `port` has what the master had written when called. */
export async function untilReplicated(port: number, timeoutMs = 10_000): Promise<void> {
  const info = (await askNode(port, (c) => c.info('replication'))) ?? '';
  const target = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = (await askNode(port, (c) => c.info('replication'))) ?? '';
    const offsets = [...now.matchAll(/slave\d+:.*offset=(\d+)/g)].map((m) => Number(m[1]));
    if (offsets.length > 0 && offsets.every((o) => o >= target)) return;
    if (Date.now() > deadline) throw new Error(`replicas of ${port} did not catch up`);
    await sleep(20);
  }
}
