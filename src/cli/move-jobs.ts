import type { Queue } from '../queue/queue.js';
import { JobStateError } from '../util/errors.js';
import { type AdminOptions, checkJobId, confirmOrRefuse, withQueue } from './admin-queue.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';

export interface MoveOptions extends AdminOptions {
  all?: boolean;
}

/** What `hopper retry` and `hopper promote` share: one job by id, or every job of a state after a confirmation. */
export interface Move {
  /** The state jobs are taken from: 'failed' or 'delayed'. */
  from: 'failed' | 'delayed';
  /** The confirmation for --all, given the count: "retry all 3 failed jobs of queue q". */
  confirm: (count: number, queue: string) => string;
  one: (q: Queue, id: string) => Promise<unknown>;
  all: (q: Queue) => Promise<number>;
  /** "retried", "promoted": for the refusal of a job in another state. */
  done: string;
}

/** Moves one job or all of a state; returns how many moved. Errors say why in one line. */
export async function moveJobs(
  queueName: string,
  id: string | undefined,
  opts: MoveOptions,
  move: Move,
): Promise<number> {
  if ((id === undefined) === (opts.all !== true)) {
    throw new CliError(`give either a job id or --all (every ${move.from} job), not both and not neither`);
  }
  if (id !== undefined) checkJobId(id);
  const name = printable(queueName);
  return withQueue(queueName, opts, async (q) => {
    if (id === undefined) {
      await confirmOrRefuse(move.confirm((await q.getCounts())[move.from], name), opts);
      return move.all(q);
    }
    try {
      await move.one(q, id);
      return 1;
    } catch (err) {
      if (!(err instanceof JobStateError)) throw err;
      const job = await q.getJob(id);
      throw new CliError(
        job
          ? `job ${printable(id)} of queue ${name} is ${job.state}, not ${move.from}: only ${move.from} jobs are ${move.done}`
          : `no job "${printable(id)}" in queue ${name}`,
      );
    }
  });
}
