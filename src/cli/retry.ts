import { Command } from 'commander';
import { writeJson } from './admin-queue.js';
import { type MoveOptions, moveJobs } from './move-jobs.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

async function retry(queueName: string, id: string | undefined, opts: MoveOptions): Promise<void> {
  const name = printable(queueName);
  const moved = await moveJobs(queueName, id, opts, {
    from: 'failed',
    confirm: (n, queue) => `retry all ${n} failed jobs of queue ${queue}`,
    one: (q, jobId) => q.retry(jobId),
    all: (q) => q.retryAll(),
    done: 'retried',
  });
  if (opts.json) return writeJson({ retried: moved });
  process.stdout.write(
    id === undefined
      ? `Moved ${moved} failed job${moved === 1 ? '' : 's'} of queue ${name} back to waiting.\n`
      : `Job ${printable(id)} of queue ${name} is waiting again.\n`,
  );
}

export function retryCommand(): Command {
  return new Command('retry')
    .description('move a failed job (or with --all every failed job) back to waiting, attempts reset')
    .argument('<queue>', 'queue name')
    .argument('[id]', 'id of the failed job')
    .option('--all', 'retry every failed job of the queue (asks first unless --yes)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print { "retried": n }')
    .action(retry);
}
