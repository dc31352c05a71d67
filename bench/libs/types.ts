/** The one interface every library adapter exposes to bench/measure.ts. */

/** The ~30-byte payload: a sequence number and a timestamp. */
export interface BenchData {
  i: number;
  t: number;
}

export interface Producer {
  add(data: BenchData): Promise<void>;
  addBulk(data: BenchData[]): Promise<void>;
  /** Jobs not finished yet according to Redis (waiting + delayed + active). */
  pending(): Promise<number>;
  close(): Promise<void>;
}

export interface Consumer {
  close(): Promise<void>;
}

export interface ConsumerOptions {
  concurrency: number;
  /** The job handler's body; resolves as a no-op. */
  handler: (data: BenchData) => Promise<void>;
  /** Called once per job the library reports completed. */
  onCompleted: () => void;
  onError: (error: unknown) => void;
}

export interface Adapter {
  producer(queue: string): Promise<Producer>;
  /** Resolves once the worker is constructed and connected (if the library exposes readiness). */
  consumer(queue: string, options: ConsumerOptions): Promise<Consumer>;
}

export type LibName = 'hopper' | 'bullmq' | 'bee';
export const LIB_NAMES: readonly LibName[] = ['hopper', 'bullmq', 'bee'];
export const LIB_LABELS: Record<LibName, string> = { hopper: 'Hopper', bullmq: 'BullMQ', bee: 'bee-queue' };
