/**
 * Hopper adapter. The engine (src/index.ts) is written in parallel, so it is loaded at run
 * time and typed here by the few members the benchmark uses; until it exists this case fails
 * with a clear message instead of measuring a stub.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JobCounts, JobOptions } from '../../src/queue/types.js';
import { settings } from '../settings.js';
import type { Adapter, BenchData } from './types.js';

interface HopperQueue {
  add(name: string, data: BenchData, opts?: JobOptions): Promise<unknown>;
  addBulk(jobs: { name: string; data: BenchData; opts?: JobOptions }[]): Promise<unknown>;
  getCounts(): Promise<JobCounts>;
  close(): Promise<void>;
}

interface HopperWorker {
  on(event: string, listener: (...args: never[]) => void): unknown;
  close(): Promise<void>;
  waitUntilReady?(): Promise<unknown>;
}

interface HopperModule {
  Queue: new (name: string, opts: { connection: string }) => HopperQueue;
  Worker: new (
    name: string,
    handler: (job: { data: BenchData }) => Promise<void>,
    opts: { connection: string; concurrency: number },
  ) => HopperWorker;
}

const JOB_NAME = 'bench';
const jobOptions: JobOptions = {
  attempts: settings.attempts,
  backoff: { type: 'exponential', delay: settings.backoffMs },
  removeOnComplete: true,
};

const ENTRY = new URL('../../src/index.ts', import.meta.url);

export function hopperAvailable(): boolean {
  return existsSync(ENTRY);
}

async function load(): Promise<HopperModule> {
  if (!hopperAvailable()) {
    throw new Error(
      `Hopper engine not found: ${fileURLToPath(ENTRY)} does not exist yet (the hopper case needs Queue and Worker exported from src/index.ts)`,
    );
  }
  // A computed specifier keeps tsc from resolving a module that may not exist yet.
  const specifier: string = '../../src/index.js';
  const mod = (await import(specifier)) as Partial<HopperModule>;
  if (typeof mod.Queue !== 'function' || typeof mod.Worker !== 'function') {
    throw new Error('src/index.ts does not export Queue and Worker');
  }
  return mod as HopperModule;
}

export function hopperAdapter(url: string): Adapter {
  return {
    async producer(name) {
      const { Queue } = await load();
      const queue = new Queue(name, { connection: url });
      return {
        async add(data) {
          await queue.add(JOB_NAME, data, jobOptions);
        },
        async addBulk(data) {
          await queue.addBulk(data.map((d) => ({ name: JOB_NAME, data: d, opts: jobOptions })));
        },
        async pending() {
          const c = await queue.getCounts();
          return c.waiting + c.delayed + c.active + (c.reserved ?? 0);
        },
        close: () => queue.close(),
      };
    },
    async consumer(name, { concurrency, handler, onCompleted, onError }) {
      const { Worker } = await load();
      const worker = new Worker(name, (job) => handler(job.data), { connection: url, concurrency });
      worker.on('completed', () => onCompleted());
      worker.on('failed', (_job: unknown, error: unknown) => onError(error));
      worker.on('error', (error: unknown) => onError(error));
      await worker.waitUntilReady?.();
      return { close: () => worker.close() };
    },
  };
}
