import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { CliError } from './errors.js';
import { Collector } from './monitor/collect.js';
import { runMonitor } from './monitor/loop.js';
import { connect, prefixOption, resolveTarget, urlOption } from './target.js';

const CLOSE_TIMEOUT_MS = 1000;

interface MonitorOptions {
  url?: string;
  prefix: string;
  interval: string;
  trend: string;
  once?: boolean;
  json?: boolean;
}

function positiveInt(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

async function monitor(queues: string[], opts: MonitorOptions): Promise<void> {
  const intervalMs = positiveInt('--interval', opts.interval, 100, 3_600_000);
  const trend = positiveInt('--trend', opts.trend, 1, 100);
  const target = resolveTarget(opts.url);
  const client = await connect(target);
  const collector = new Collector(client, target, opts.prefix, [...new Set(queues)]);
  try {
    await runMonitor(collector, {
      intervalMs,
      trend,
      once: opts.once === true,
      json: opts.json === true,
      label: target.label,
    });
  } finally {
    // Bounded: with Redis gone a polite QUIT may never be answered, and q must still quit.
    await Promise.race([collector.close().catch(() => {}), sleep(CLOSE_TIMEOUT_MS)]);
    client.disconnect();
  }
}

export function monitorCommand(): Command {
  return new Command('monitor')
    .description('live view of queues: counts per state, trends, throughput, p95 times, Redis health')
    .argument('[queue...]', 'queues to show (default: every registered queue)')
    .option('--interval <ms>', 'refresh every <ms> milliseconds', '1000')
    .option('--trend <n>', 'refreshes the TRENDS section compares against', '5')
    .option('--once', 'print one refresh and exit')
    .option('--json', 'print one JSON line per refresh instead of the screen')
    .addOption(urlOption())
    .addOption(prefixOption())
    .action(monitor);
}
