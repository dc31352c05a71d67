import { Command } from 'commander';
import { findStreams } from '../stream/find.js';
import { readInfo } from '../stream/info.js';
import { streamKeys } from '../stream/keys.js';
import type { StreamInfo } from '../stream/types.js';
import { type AdminOptions, writeJson } from './admin-queue.js';
import { printable } from './printable.js';
import { connect, prefixOption, resolveTarget, urlOption } from './target.js';

function table(rows: [string, StreamInfo][]): string {
  const header = ['STREAM', 'LENGTH', 'DEAD', 'GROUP', 'CONSUMERS', 'PENDING', 'LAG'];
  const cells: string[][] = [];
  for (const [name, info] of rows) {
    const base = [printable(name), String(info.length), String(info.dead)];
    if (info.groups.length === 0) cells.push([...base, '(no group)', '', '', '']);
    info.groups.forEach((g, i) => {
      cells.push([
        ...(i === 0 ? base : ['', '', '']),
        printable(g.name),
        String(g.consumers),
        String(g.pending),
        g.lag === null ? '?' : String(g.lag),
      ]);
    });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...cells.map(fmt)].join('\n');
}

async function streams(opts: AdminOptions): Promise<void> {
  const target = resolveTarget(opts.url);
  const client = await connect(target);
  const rows: [string, StreamInfo][] = [];
  try {
    for (const name of await findStreams(client, opts.prefix)) {
      rows.push([name, await readInfo(client, streamKeys(opts.prefix, name))]);
    }
  } finally {
    client.disconnect();
  }
  if (opts.json) return writeJson(Object.fromEntries(rows));
  if (rows.length === 0) {
    process.stdout.write(`No event streams under prefix "${printable(opts.prefix)}".\n`);
    return;
  }
  process.stdout.write(`${table(rows)}\n`);
}

export function streamsCommand(): Command {
  return new Command('streams')
    .description('list event streams: length, dead letters, and each consumer group with its pending and lag')
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print JSON: { "<stream>": { length, dead, groups: [...] } }')
    .action(streams);
}
