import { Command, Option } from 'commander';
import type { JobInfo, JobState } from '../queue/types.js';
import { type AdminOptions, withQueue, writeJson } from './admin-queue.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

export const JOB_STATES: readonly JobState[] = [
  'waiting',
  'delayed',
  'active',
  'completed',
  'failed',
  'waiting-children',
];

interface JobsOptions extends AdminOptions {
  start: string;
  end: string;
}

function index(flag: string, value: string): number {
  if (!/^\d{1,9}$/.test(value))
    throw new CliError(`${flag} must be a whole number >= 0, got "${printable(value)}"`);
  return Number(value);
}

const when = (ms: number | undefined) =>
  ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '-';

function detail(job: JobInfo): string {
  if (job.error) return `${job.error.name}: ${job.error.message}`;
  if (job.delayUntil) return `due ${when(job.delayUntil)}`;
  return '';
}

async function jobs(queueName: string, state: string | undefined, opts: JobsOptions): Promise<void> {
  const chosen = (state ?? 'waiting') as JobState;
  if (!JOB_STATES.includes(chosen)) {
    throw new CliError(`bad state "${printable(String(state))}": expected one of ${JOB_STATES.join(', ')}`);
  }
  const start = index('--start', opts.start);
  const end = index('--end', opts.end);
  if (end < start) throw new CliError(`--end (${end}) must not be below --start (${start})`);
  const list = await withQueue(queueName, opts, (q) => q.getJobs(chosen, start, end));
  if (opts.json) return writeJson(list);
  if (list.length === 0) {
    process.stdout.write(`No ${chosen} jobs in queue ${printable(queueName)} (positions ${start}-${end}).\n`);
    return;
  }
  const header = ['ID', 'NAME', 'ATTEMPTS', 'ADDED', 'DETAIL'];
  const rows = list.map((j) =>
    [j.id, j.name, String(j.attemptsMade), when(j.timestamp), detail(j)].map(printable),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[fmt(header), ...rows.map(fmt)].join('\n')}\n`);
}

export function jobsCommand(): Command {
  return new Command('jobs')
    .description('list the jobs of a queue in one state (positions --start to --end)')
    .argument('<queue>', 'queue name')
    .argument('[state]', `one of ${JOB_STATES.join(', ')} (default waiting)`)
    .addOption(new Option('--start <n>', 'first position, 0-based').default('0'))
    .addOption(new Option('--end <n>', 'last position, inclusive').default('19'))
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print the jobs as JSON')
    .action(jobs);
}
