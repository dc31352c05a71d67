import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { loadEngine, totalJobs } from './engine.js';
import { CliError } from './errors.js';
import { cliLogger } from './logger.js';
import { connect, prefixOption, resolveTarget, urlOption } from './target.js';

interface ClearOptions {
  url?: string;
  prefix: string;
  yes?: boolean;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

async function clear(queueName: string, opts: ClearOptions): Promise<void> {
  // Checked before touching Redis: a script piping into `hopper clear` must never
  // delete jobs because some stray input line happened to start with "y".
  if (!opts.yes && !process.stdin.isTTY) {
    throw new CliError(
      `refusing to clear queue "${queueName}" without confirmation: stdin is not a terminal, pass --yes`,
    );
  }
  const target = resolveTarget(opts.url);
  (await connect(target)).disconnect(); // one clear line if Redis is down

  const { Queue } = await loadEngine();
  const queue = new Queue(queueName, { connection: target.url, prefix: opts.prefix, logger: cliLogger() });
  try {
    const total = totalJobs(await queue.getCounts());
    if (!opts.yes && !(await confirm(`Delete every job of queue ${queueName} (${total} jobs)? [y/N] `))) {
      throw new CliError('aborted, nothing deleted');
    }
    await queue.obliterate({ force: true });
    process.stdout.write(`Cleared queue ${queueName}: ${total} jobs deleted.\n`);
  } finally {
    await queue.close();
  }
}

export function clearCommand(): Command {
  return new Command('clear')
    .description('delete every job of a queue (asks first unless --yes)')
    .argument('<queue>', 'queue name')
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(urlOption())
    .addOption(prefixOption())
    .action(clear);
}
