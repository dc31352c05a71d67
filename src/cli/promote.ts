import { Command } from 'commander';
import { JobStateError } from '../util/errors.js';
import { type AdminOptions, checkJobId, confirmOrRefuse, withQueue, writeJson } from './admin-queue.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

interface PromoteOptions extends AdminOptions {
  all?: boolean;
}

async function promote(queueName: string, id: string | undefined, opts: PromoteOptions): Promise<void> {
  if ((id === undefined) === (opts.all !== true)) {
    throw new CliError('give either a job id or --all (every delayed job), not both and not neither');
  }
  if (id !== undefined) checkJobId(id);
  const name = printable(queueName);
  const moved = await withQueue(queueName, opts, async (q) => {
    if (id === undefined) {
      const delayed = (await q.getCounts()).delayed;
      await confirmOrRefuse(`run all ${delayed} delayed jobs of queue ${name} now`, opts);
      return q.promoteAll();
    }
    try {
      await q.promote(id);
      return 1;
    } catch (err) {
      if (!(err instanceof JobStateError)) throw err;
      const job = await q.getJob(id);
      throw new CliError(
        job
          ? `job ${printable(id)} of queue ${name} is ${job.state}, not delayed: only delayed jobs are promoted`
          : `no job "${printable(id)}" in queue ${name}`,
      );
    }
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
