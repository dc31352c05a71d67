import { Command } from 'commander';
import type { JobInfo } from '../queue/types.js';
import { type AdminOptions, checkJobId, withQueue, writeJson } from './admin-queue.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

/** Characters of pretty-printed data shown unless --full: a large payload would bury the rest. */
export const DATA_PREVIEW_CHARS = 2000;

interface JobOptions extends AdminOptions {
  full?: boolean;
}

const when = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : '-');

function pretty(value: unknown, full: boolean): string {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  if (full || text.length <= DATA_PREVIEW_CHARS) return text;
  return `${text.slice(0, DATA_PREVIEW_CHARS)}\n… (${text.length - DATA_PREVIEW_CHARS} more characters: pass --full)`;
}

/** Multi-line values indented under their label. */
const block = (label: string, text: string) => `${label}\n${text.replace(/^/gm, '  ')}`;

function describe(job: JobInfo, full: boolean): string {
  const lines = [
    `job ${job.id} (${job.name})`,
    `state:      ${job.state}`,
    `attempts:   ${job.attemptsMade} failed${job.opts.attempts ? ` of ${job.opts.attempts} allowed` : ''}, ${job.stalls} stall(s)`,
    `added:      ${when(job.timestamp)}`,
    `started:    ${when(job.processedOn)}`,
    `finished:   ${when(job.finishedOn)}`,
  ];
  if (job.delayUntil) lines.push(`due:        ${when(job.delayUntil)}`);
  if (job.progress !== undefined) lines.push(`progress:   ${JSON.stringify(job.progress)}`);
  lines.push(block('data:', pretty(job.data, full)));
  lines.push(block('options:', JSON.stringify(job.opts, null, 2)));
  if (job.returnValue !== undefined) lines.push(block('result:', pretty(job.returnValue, full)));
  if (job.error) {
    lines.push(`error:      ${job.error.name}: ${job.error.message}`);
    const attempts = job.errors ?? [];
    if (attempts.length <= 1) {
      if (job.error.stack) lines.push(block('stack:', job.error.stack));
    } else {
      // Every failed attempt kept (the last 10), oldest first: a retry often fails differently.
      lines.push(`failed attempts (${attempts.length} kept, oldest first):`);
      for (const a of attempts) {
        const head = `  attempt ${a.attempt} at ${when(a.failedAt)} (ran ${a.failedAt - a.startedAt} ms): ${a.error.name}: ${a.error.message}`;
        lines.push(a.error.stack ? `${head}\n${a.error.stack.replace(/^/gm, '    ')}` : head);
      }
    }
  }
  lines.push(
    job.logs.length > 0 ? block(`logs (${job.logs.length}):`, job.logs.join('\n')) : 'logs:       none',
  );
  // Everything here is job data from Redis: no raw control characters on the terminal.
  return lines.join('\n').split('\n').map(printable).join('\n');
}

async function job(queueName: string, id: string, opts: JobOptions): Promise<void> {
  checkJobId(id);
  const found = await withQueue(queueName, opts, (q) => q.getJob(id));
  if (!found) throw new CliError(`no job "${printable(id)}" in queue ${printable(queueName)}`);
  if (opts.json) return writeJson(found);
  process.stdout.write(`${describe(found, opts.full === true)}\n`);
}

export function jobCommand(): Command {
  return new Command('job')
    .description('show one job: state, data, options, attempts, error and stack, progress, logs, timestamps')
    .argument('<queue>', 'queue name')
    .argument('<id>', 'job id')
    .option('--full', `print data and result in full (default: cut after ${DATA_PREVIEW_CHARS} characters)`)
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print the job as JSON')
    .action(job);
}
