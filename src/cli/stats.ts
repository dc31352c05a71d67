import { Command } from 'commander';
import { registryKey } from '../queue/keys.js';
import { readPartitionCounts } from '../queue/partitions/registry.js';
import type { JobCounts } from '../queue/types.js';
import { HopperError } from '../util/errors.js';
import { loadEngine, STATES } from './engine.js';
import { cliLogger } from './logger.js';
import { printable, printableJson } from './printable.js';
import { connect, prefixOption, resolveTarget, urlOption } from './target.js';

interface StatsOptions {
  url?: string;
  prefix: string;
  json?: boolean;
}

/** stats shows flow parents waiting for children too (the monitor keeps to STATES). */
const COLUMNS = [...STATES, 'waitingChildren'] as const;

function table(rows: [string, JobCounts][]): string {
  const header = ['queue', ...COLUMNS];
  // Names come from Redis: one holding ESC or CR could forge rows (printable.ts).
  const cells = rows.map(([name, counts]) => [printable(name), ...COLUMNS.map((s) => String(counts[s]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  // Names left-aligned, numbers right-aligned so digits line up.
  const format = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [format(header), ...cells.map(format)].join('\n');
}

async function stats(queueName: string | undefined, opts: StatsOptions): Promise<void> {
  const target = resolveTarget(opts.url);
  // Connecting first turns "Redis is down" into one clear line instead of a
  // Queue retrying in the background.
  const client = await connect(target);
  let names: string[];
  let partitions: Map<string, number>;
  try {
    names = queueName ? [queueName] : (await client.smembers(registryKey(opts.prefix))).sort();
    // A partitioned queue is one row: its partitions are read through one Queue.
    partitions = await readPartitionCounts(client, opts.prefix);
  } finally {
    client.disconnect();
  }
  if (names.length === 0) {
    if (opts.json) process.stdout.write('{}\n');
    else process.stdout.write(`No queues registered under prefix "${printable(opts.prefix)}".\n`);
    return;
  }

  const { Queue } = await loadEngine();
  const rows: [string, JobCounts][] = [];
  for (const name of names) {
    let queue: InstanceType<typeof Queue>;
    try {
      queue = new Queue(name, {
        connection: target.url,
        prefix: opts.prefix,
        logger: cliLogger(),
        partitions: partitions.get(name),
      });
    } catch (err) {
      // A name Queue now refuses, written by an old version or another client: one bad
      // registry entry must not hide the other queues.
      if (!(err instanceof HopperError) || queueName !== undefined) throw err;
      process.stderr.write(
        `hopper: skipped registered name "${printable(name)}": ${printable(err.message)}\n`,
      );
      continue;
    }
    try {
      rows.push([name, await queue.getCounts()]);
    } finally {
      await queue.close();
    }
  }
  if (opts.json) process.stdout.write(`${printableJson(Object.fromEntries(rows))}\n`);
  else process.stdout.write(`${table(rows)}\n`);
}

export function statsCommand(): Command {
  return new Command('stats')
    .description('job counts per state, for one queue or every registered queue')
    .argument('[queue]', 'queue name (default: all queues)')
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print JSON: { "<queue>": { "waiting": n, ... } }')
    .action(stats);
}
