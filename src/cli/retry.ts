import { Command } from 'commander';
import { JobStateError } from '../util/errors.js';
import { type AdminOptions, checkJobId, confirmOrRefuse, withQueue, writeJson } from './admin-queue.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

interface RetryOptions extends AdminOptions {
  all?: boolean;
}

async function retry(queueName: string, id: string | undefined, opts: RetryOptions): Promise<void> {
  if ((id === undefined) === (opts.all !== true)) {
    throw new CliError('give either a job id or --all (every failed job), not both and not neither');
  }
  if (id !== undefined) checkJobId(id);
  const name = printable(queueName);
  const moved = await withQueue(queueName, opts, async (q) => {
    if (id === undefined) {
      const failed = (await q.getCounts()).failed;
      await confirmOrRefuse(`retry all ${failed} failed jobs of queue ${name}`, opts);
      return q.retryAll();
    }
    try {
      await q.retry(id);
      return 1;
    } catch (err) {
      if (!(err instanceof JobStateError)) throw err;
      const job = await q.getJob(id);
      throw new CliError(
        job
          ? `job ${printable(id)} of queue ${name} is ${job.state}, not failed: only failed jobs are retried`
          : `no job "${printable(id)}" in queue ${name}`,
      );
    }
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
