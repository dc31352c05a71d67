import { type JobType, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Inspector, StoredJob, StoredState, Target } from './types.js';

type Data = { m: string };
const PAGE = 500;
/** BullMQ's lists, and the state each counts as in the report. */
const LISTS: [JobType, StoredState][] = [
  ['wait', 'waiting'],
  ['prioritized', 'waiting'],
  ['waiting-children', 'waiting'],
  ['delayed', 'delayed'],
  ['active', 'active'],
  ['completed', 'completed'],
  ['failed', 'failed'],
];

/** BullMQ as its docs advise: producers fail fast, workers wait through outages. */
export const bullmq: Target = {
  async producer(url, name) {
    const connection = new Redis(url);
    const queue = new Queue<Data>(name, { connection });
    queue.on('error', () => {});
    return {
      async add(marker) {
        const job = await queue.add('chaos', { m: marker });
        return job.id!;
      },
      async close() {
        await queue.close();
        connection.disconnect();
      },
    };
  },

  async worker(url, name, settings, events) {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const worker = new Worker<Data>(name, (job) => events.run(job.id!, job.data.m), {
      connection,
      concurrency: settings.concurrency,
      lockDuration: settings.leaseMs,
      stalledInterval: settings.leaseMs,
      // As for Hopper: stalled jobs go back rather than fail.
      maxStalledCount: 1_000_000,
    });
    worker.on('completed', (job) => events.completed(job.id!, job.data.m));
    worker.on('failed', (job) => {
      if (job) events.failed(job.id!, job.data.m);
    });
    worker.on('error', (err) => events.error(err));
    return {
      async close() {
        await worker.close();
        connection.disconnect();
      },
    };
  },

  async inspector(url, name): Promise<Inspector> {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue<Data>(name, { connection });
    queue.on('error', () => {});
    return {
      async pending() {
        const c = await queue.getJobCounts('wait', 'prioritized', 'waiting-children', 'delayed', 'active');
        return Object.values(c).reduce((sum, n) => sum + n, 0);
      },
      async jobs() {
        const out: StoredJob[] = [];
        for (const [type, state] of LISTS) {
          for (let start = 0; ; start += PAGE) {
            const page = await queue.getJobs(type, start, start + PAGE - 1, true);
            for (const j of page) if (j) out.push({ id: j.id!, marker: (j.data as Data)?.m ?? '', state });
            if (page.length < PAGE) break;
          }
        }
        return out;
      },
      async close() {
        await queue.close();
        connection.disconnect();
      },
    };
  },
};
