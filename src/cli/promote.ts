import { Command } from 'commander';
import { writeJson } from './admin-queue.js';
import { type MoveOptions, moveJobs } from './move-jobs.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

async function promote(queueName: string, id: string | undefined, opts: MoveOptions): Promise<void> {
  const name = printable(queueName);
  const moved = await moveJobs(queueName, id, opts, {
    from: 'delayed',
    confirm: (n, queue) => `run all ${n} delayed jobs of queue ${queue} now`,
    one: (q, jobId) => q.promote(jobId),
    all: (q) => q.promoteAll(),
    done: 'promoted',
  });
  if (opts.json) return writeJson({ promoted: moved });
  process.stdout.write(
    id === undefined
      ? `Moved ${moved} delayed job${moved === 1 ? '' : 's'} of queue ${name} in line to run now.\n`
      : `Job ${printable(id)} of queue ${name} is waiting: it runs as soon as a worker takes it.\n`,
  );
}

export function promoteCommand(): Command {
  return new Command('promote')
    .description('let a delayed job (or with --all every delayed job) run now')
    .argument('<queue>', 'queue name')
    .argument('[id]', 'id of the delayed job')
    .option('--all', 'promote every delayed job of the queue (asks first unless --yes)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print { "promoted": n }')
    .action(promote);
}
