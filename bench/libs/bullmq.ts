/** BullMQ adapter: ioredis connections with maxRetriesPerRequest: null, library defaults otherwise. */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { settings } from '../settings.js';
import type { Adapter, BenchData } from './types.js';

const JOB_NAME = 'bench';
const jobOptions = {
  attempts: settings.attempts,
  backoff: { type: 'exponential', delay: settings.backoffMs },
  removeOnComplete: true,
};

export function bullmqAdapter(url: string): Adapter {
  const connect = (): Redis => new Redis(url, { maxRetriesPerRequest: null });
  return {
    async producer(name) {
      const connection = connect();
      const queue = new Queue<BenchData>(name, { connection });
      await queue.waitUntilReady();
      return {
        async add(data) {
          await queue.add(JOB_NAME, data, jobOptions);
        },
        async addBulk(data) {
          await queue.addBulk(data.map((d) => ({ name: JOB_NAME, data: d, opts: jobOptions })));
        },
        async pending() {
          const c = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'waiting-children');
          return Object.values(c).reduce((sum, n) => sum + n, 0);
        },
        async close() {
          await queue.close();
          connection.disconnect();
        },
      };
    },
    async consumer(name, { concurrency, handler, onCompleted, onError }) {
      const connection = connect();
      const worker = new Worker<BenchData>(name, (job) => handler(job.data), { connection, concurrency });
      worker.on('completed', () => onCompleted());
      worker.on('failed', (_job, error) => onError(error));
      worker.on('error', onError);
      await worker.waitUntilReady();
      return {
        async close() {
          await worker.close();
          connection.disconnect();
        },
      };
    },
  };
}
