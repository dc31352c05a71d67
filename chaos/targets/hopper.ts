import { pino } from 'pino';
import { type JobState, Queue, Worker } from '../../src/index.js';
import type { Inspector, StoredJob, Target } from './types.js';

type Data = { m: string };
const silent = pino({ level: 'silent' });
const STATES: JobState[] = ['waiting', 'delayed', 'active', 'completed', 'failed'];
const PAGE = 500;
/** Keep every finished job, so the checker sees every record at the end. */
const KEEP = { removeOnComplete: false, removeOnFail: false } as const;

export const hopper: Target = {
  async producer(url, name) {
    const queue = new Queue<Data>(name, { connection: url, logger: silent, defaultJobOptions: KEEP });
    return {
      add: (marker) => queue.add('chaos', { m: marker }),
      close: () => queue.close(),
    };
  },

  async worker(url, name, settings, events) {
    const worker = new Worker<Data>(name, (job) => events.run(job.id, job.data.m), {
      connection: url,
      concurrency: settings.concurrency,
      leaseMs: settings.leaseMs,
      // Every stall puts the job back: a job failed for stalling would hide whether it was lost.
      maxStalls: 1_000_000,
      logger: silent,
    });
    worker.on('completed', (job: { id: string; data: Data }) => events.completed(job.id, job.data.m));
    worker.on('failed', (job: { id: string; data: Data }) => events.failed(job.id, job.data.m));
    worker.on('lost', (job: { id: string; data: Data }) => events.lost(job.id, job.data.m));
    worker.on('error', (err: Error) => events.error(err));
    return { close: () => worker.close({ timeout: 5000 }) };
  },

  async inspector(url, name): Promise<Inspector> {
    const queue = new Queue<Data>(name, { connection: url, logger: silent, metrics: false });
    return {
      async pending() {
        const c = await queue.getCounts();
        return c.waiting + c.delayed + c.active;
      },
      async jobs() {
        const out: StoredJob[] = [];
        for (const state of STATES) {
          for (let start = 0; ; start += PAGE) {
            const page = await queue.getJobs(state, start, start + PAGE - 1);
            for (const j of page) out.push({ id: j.id, marker: j.data?.m ?? '', state });
            if (page.length < PAGE) break;
          }
        }
        return out;
      },
      close: () => queue.close(),
    };
  },
};
