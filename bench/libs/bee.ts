/**
 * bee-queue adapter. Both sides set getEvents: false (neither listens to other processes'
 * job events); the worker keeps the default sendEvents: true, like BullMQ's events stream.
 */
import BeeQueue from 'bee-queue';
import { settings } from '../settings.js';
import type { Adapter, BenchData } from './types.js';

function redisOptions(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

function makeJob(queue: BeeQueue<BenchData>, data: BenchData): BeeQueue.Job<BenchData> {
  // retries = attempts after the first one.
  return queue
    .createJob(data)
    .retries(settings.attempts - 1)
    .backoff('exponential', settings.backoffMs);
}

export function beeAdapter(url: string): Adapter {
  const redis = redisOptions(url);
  const common = { redis, getEvents: false, removeOnSuccess: true, removeOnFailure: false };
  return {
    async producer(name) {
      const queue = new BeeQueue<BenchData>(name, { ...common, isWorker: false });
      await queue.ready();
      return {
        async add(data) {
          await makeJob(queue, data).save();
        },
        async addBulk(data) {
          const errors = await queue.saveAll(data.map((d) => makeJob(queue, d)));
          if (errors.size > 0) throw new Error(`saveAll: ${errors.size} jobs failed`);
        },
        async pending() {
          const h = await queue.checkHealth();
          return h.waiting + h.delayed + h.active;
        },
        async close() {
          await queue.close();
        },
      };
    },
    async consumer(name, { concurrency, handler, onCompleted, onError }) {
      const queue = new BeeQueue<BenchData>(name, { ...common, isWorker: true });
      queue.on('succeeded', () => onCompleted());
      queue.on('failed', (_job, error) => onError(error));
      queue.on('error', onError);
      await queue.ready();
      queue.process(concurrency, (job: BeeQueue.Job<BenchData>) => handler(job.data));
      return {
        async close() {
          await queue.close();
        },
      };
    },
  };
}
