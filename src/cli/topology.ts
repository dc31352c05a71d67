import keySlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { queueKeys, registryKey } from '../queue/keys.js';
import { partitionNames } from '../queue/partitions/layout.js';
import { readPartitionCounts } from '../queue/partitions/registry.js';
import { isCluster } from '../redis/connection.js';
import { parseInfo } from '../redis/server-check.js';

type SlotRange = [number, number, [string, number, string?], ...[string, number, string?][]];

/**
 * What `hopper ping` says about the shape of the deployment: on a Cluster its masters
 * (with slot ranges and replicas) and the master each registered queue lives on; on
 * one server (Sentinel's master included) its role and replicas.
 */
export async function describeTopology(client: Redis, prefix: string): Promise<string[]> {
  if (!isCluster(client)) {
    const info = parseInfo(await client.info('replication'));
    const sentinel = client.options.sentinels?.length
      ? `, found through Sentinel (master "${client.options.name}")`
      : '';
    return [
      `topology:         single server (${info.get('role')}, ${info.get('connected_slaves') ?? 0} replicas)${sentinel}`,
    ];
  }
  const slots = (await (client as unknown as Cluster).cluster('SLOTS')) as unknown as SlotRange[];
  const masters = new Map<string, { ranges: string[]; replicas: Set<string> }>();
  for (const [from, to, master, ...replicas] of slots) {
    const addr = `${master[0]}:${master[1]}`;
    const m = masters.get(addr) ?? { ranges: [], replicas: new Set<string>() };
    m.ranges.push(from === to ? String(from) : `${from}-${to}`);
    for (const r of replicas) m.replicas.add(`${r[0]}:${r[1]}`);
    masters.set(addr, m);
  }
  const replicaCount = [...masters.values()].reduce((n, m) => n + m.replicas.size, 0);
  const lines = [`topology:         Redis Cluster, ${masters.size} masters, ${replicaCount} replicas`];
  for (const [addr, m] of [...masters].sort()) {
    const reps = m.replicas.size ? `, replicas ${[...m.replicas].sort().join(' ')}` : ', no replica';
    lines.push(`  master ${addr}  slots ${m.ranges.join(',')}${reps}`);
  }
  const names = (await client.smembers(registryKey(prefix))).sort();
  if (names.length > 0) lines.push('queues:');
  const partitions = await readPartitionCounts(client, prefix);
  const placeOf = (queue: string) => {
    const slot = keySlot(queueKeys(prefix, queue).tag);
    const range = slots.find(([a, b]) => slot >= a && slot <= b);
    return { slot, where: range ? `${range[2][0]}:${range[2][1]}` : 'no master (slot not served)' };
  };
  for (const name of names) {
    const n = partitions.get(name);
    if (n === undefined) {
      const { slot, where } = placeOf(name);
      lines.push(`  ${name}  slot ${slot} on ${where}`);
      continue;
    }
    // A partitioned queue: one line per partition (its own hash tag, partitions/layout.ts).
    lines.push(`  ${name}  ${n} partitions:`);
    for (const part of partitionNames(prefix, name, n)) {
      const { slot, where } = placeOf(part);
      lines.push(`    ${part}  slot ${slot} on ${where}`);
    }
  }
  return lines;
}
