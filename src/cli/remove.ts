import { Command } from 'commander';
import { JobStateError } from '../util/errors.js';
import { type AdminOptions, checkJobId, confirmOrRefuse, withQueue, writeJson } from './admin-queue.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

async function remove(queueName: string, id: string, opts: AdminOptions): Promise<void> {
  checkJobId(id);
  const name = printable(queueName);
  await withQueue(queueName, opts, async (q) => {
    const job = await q.getJob(id);
    if (!job) throw new CliError(`no job "${printable(id)}" in queue ${name}, nothing removed`);
    await confirmOrRefuse(
      `remove ${job.state} job ${printable(id)} (${printable(job.name)}) of queue ${name}`,
      opts,
    );
    try {
      if (!(await q.remove(id))) throw new CliError(`job ${printable(id)} of queue ${name} was already gone`);
    } catch (err) {
      if (err instanceof JobStateError) {
        throw new CliError(
          `job ${printable(id)} of queue ${name} is active (a worker holds it): not removed`,
        );
      }
      throw err;
    }
  });
  if (opts.json) return writeJson({ removed: id });
  process.stdout.write(`Removed job ${printable(id)} of queue ${name}.\n`);
}

export function removeCommand(): Command {
  return new Command('remove')
    .description('delete one job that is not active (asks first unless --yes)')
    .argument('<queue>', 'queue name')
    .argument('<id>', 'job id')
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print { "removed": id }')
    .action(remove);
}
