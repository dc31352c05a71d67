import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import type { Redis } from 'ioredis';
import { durabilityWarnings, readServerFacts } from '../redis/server-check.js';
import { printable } from './printable.js';
import { connect, prefixOption, resolveTarget, urlOption } from './target.js';
import { describeTopology } from './topology.js';

const SAMPLES = 20;

/** Median round trip of sequential PINGs: the median ignores the first, cold one and GC blips. */
async function medianLatencyMs(client: Redis, samples = SAMPLES): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await client.ping();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  return times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
}

const onOff = (on: boolean) => (on ? 'on' : 'off');

async function ping(opts: { url?: string; prefix: string }): Promise<void> {
  const target = resolveTarget(opts.url);
  const client = await connect(target);
  try {
    const facts = await readServerFacts(client);
    const latency = await medianLatencyMs(client);
    const lines = [
      `Redis ${facts.version} (${facts.role}) at ${target.label}`,
      `latency:          ${latency.toFixed(2)} ms (median of ${SAMPLES} PINGs)`,
      `maxmemory-policy: ${facts.maxmemoryPolicy}`,
      `persistence:      AOF ${onOff(facts.aofEnabled)}, RDB ${onOff(facts.rdbSaves)}`,
    ];
    lines.push(...(await describeTopology(client, opts.prefix)));
    const warnings = durabilityWarnings(facts);
    if (warnings.length === 0) lines.push('durability:       OK, no settings that lose jobs');
    for (const warning of warnings) lines.push(`warning: ${warning}`);
    // INFO text comes from the server: printed escaped like any text read from Redis.
    process.stdout.write(`${lines.map(printable).join('\n')}\n`);
  } finally {
    client.disconnect();
  }
}

export function pingCommand(): Command {
  return new Command('ping')
    .description(
      'check the connection: Redis version, latency, memory policy, persistence, and the Cluster or replicas seen',
    )
    .addOption(urlOption())
    .addOption(prefixOption())
    .action(ping);
}
