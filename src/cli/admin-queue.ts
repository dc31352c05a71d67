import { registryKey } from '../queue/keys.js';
import { readPartitionCounts } from '../queue/partitions/registry.js';
import type { Queue } from '../queue/queue.js';
import { confirm } from './clear.js';
import { loadEngine } from './engine.js';
import { CliError } from './errors.js';
import { cliLogger } from './logger.js';
import { printable, printableJson } from './printable.js';
import { connect, resolveTarget } from './target.js';

export interface AdminOptions {
  url?: string;
  prefix: string;
  json?: boolean;
  yes?: boolean;
}

/**
 * Runs `work` on a queue that exists: one in the registry (every producer and worker
 * registers its queue). A mistyped name would otherwise act on an empty queue and
 * report success, or, for pause, create a flag nobody reads.
 */
export async function withQueue<T>(
  name: string,
  opts: AdminOptions,
  work: (q: Queue) => Promise<T>,
): Promise<T> {
  const target = resolveTarget(opts.url);
  const client = await connect(target);
  let known: string[];
  let partitions: number | undefined;
  try {
    known = (await client.smembers(registryKey(opts.prefix))).sort();
    partitions = (await readPartitionCounts(client, opts.prefix)).get(name);
  } finally {
    client.disconnect();
  }
  if (!known.includes(name)) {
    const list =
      known.length > 0 ? `known queues: ${known.map(printable).join(', ')}` : 'no queues are registered';
    throw new CliError(
      `unknown queue "${printable(name)}" under prefix "${printable(opts.prefix)}" (${list})`,
    );
  }
  const { Queue } = await loadEngine();
  const queue = new Queue(name, {
    connection: target.url,
    prefix: opts.prefix,
    logger: cliLogger(),
    partitions,
  });
  try {
    return await work(queue);
  } finally {
    await queue.close();
  }
}

/** Job ids are what Queue.add returned: non-empty, no spaces or control characters. */
export function checkJobId(id: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (!/^[^\s\x00-\x1f\x7f]{1,256}$/.test(id)) {
    throw new CliError(
      `bad job id "${printable(id)}": expected the id add() returned (1-256 printable characters)`,
    );
  }
  return id;
}

/**
 * For destructive commands: --yes, or a y on the terminal. Checked before any change,
 * and refused when stdin is not a terminal, like `hopper clear`.
 */
export async function confirmOrRefuse(what: string, opts: AdminOptions): Promise<void> {
  if (opts.yes) return;
  if (!process.stdin.isTTY)
    throw new CliError(`refusing to ${what} without confirmation: stdin is not a terminal, pass --yes`);
  if (!(await confirm(`${what[0]!.toUpperCase()}${what.slice(1)}? [y/N] `)))
    throw new CliError('aborted, nothing changed');
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${printableJson(value)}\n`);
}
