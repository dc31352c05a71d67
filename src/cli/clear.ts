import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { readPartitionCounts } from '../queue/partitions/registry.js';
import { JobStateError } from '../util/errors.js';
import { loadEngine, totalJobs } from './engine.js';
import { CliError } from './errors.js';
import { cliLogger } from './logger.js';
import { printable } from './printable.js';
import { connect, prefixOption, resolveTarget, urlOption } from './target.js';

interface ClearOptions {
  url?: string;
  prefix: string;
  yes?: boolean;
  force?: boolean;
}

/** Asks on the terminal; true on y/yes. Shared by the destructive commands. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

const refuseActive = (name: string, active: number) =>
  new CliError(
    `refusing to clear queue "${name}": ${active} job${active === 1 ? ' is' : 's are'} active ` +
      '(a worker is running them); stop its workers first, or pass --force to delete them anyway. Nothing deleted',
  );

async function clear(queueName: string, opts: ClearOptions): Promise<void> {
  const name = printable(queueName);
  // Checked before touching Redis: a script piping into `hopper clear` must never
  // delete jobs because some stray input line happened to start with "y".
  if (!opts.yes && !process.stdin.isTTY) {
    throw new CliError(
      `refusing to clear queue "${name}" without confirmation: stdin is not a terminal, pass --yes`,
    );
  }
  const target = resolveTarget(opts.url);
  const probe = await connect(target); // one clear line if Redis is down
  const partitions = await readPartitionCounts(probe, opts.prefix)
    .then((m) => m.get(queueName))
    .finally(() => probe.disconnect());

  const { Queue } = await loadEngine();
  const queue = new Queue(queueName, {
    connection: target.url,
    prefix: opts.prefix,
    logger: cliLogger(),
    partitions,
  });
  try {
    const counts = await queue.getCounts();
    // Same rule as Queue.obliterate: deleting a running job's record pulls it from under its
    // worker, so --yes (which only skips the question) is not enough for that.
    if (counts.active > 0 && !opts.force) throw refuseActive(name, counts.active);
    const total = totalJobs(counts);
    const running = counts.active > 0 ? `, ${counts.active} of them active` : '';
    if (
      !opts.yes &&
      !(await confirm(`Delete every job of queue ${name} (${total} jobs${running})? [y/N] `))
    ) {
      throw new CliError('aborted, nothing deleted');
    }
    try {
      // obliterate checks again: a worker may have taken a job since the count.
      await queue.obliterate({ force: opts.force === true });
    } catch (err) {
      if (err instanceof JobStateError) throw refuseActive(name, (await queue.getCounts()).active);
      throw err;
    }
    process.stdout.write(`Cleared queue ${name}: ${total} jobs deleted.\n`);
  } finally {
    await queue.close();
  }
}

export function clearCommand(): Command {
  return new Command('clear')
    .description(
      'delete every job of a queue (asks first unless --yes; refuses while jobs are active unless --force)',
    )
    .argument('<queue>', 'queue name')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--force', 'delete even while jobs are active (their workers then fail to settle them)')
    .addOption(urlOption())
    .addOption(prefixOption())
    .action(clear);
}
