/** What the suite needs from a queue library; one file per library implements it. */
export type TargetName = 'hopper' | 'bullmq';

export const TARGETS: TargetName[] = ['hopper', 'bullmq'];

export interface Producer {
  /** Adds one job carrying `marker`, resolves to the job id. */
  add(marker: string): Promise<string>;
  close(): Promise<void>;
}

export interface WorkerEvents {
  /** The handler: runs the job. */
  run(id: string, marker: string): Promise<void>;
  completed(id: string, marker: string): void;
  failed(id: string, marker: string): void;
  /** An outcome refused because the lease had lapsed (Hopper only). */
  lost(id: string, marker: string): void;
  error(err: Error): void;
}

export interface WorkerSettings {
  concurrency: number;
  leaseMs: number;
}

export interface RunningWorker {
  close(): Promise<void>;
}

export type StoredState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'waiting-children';

/** A job as it is in Redis at the end of a run. */
export interface StoredJob {
  id: string;
  marker: string;
  state: StoredState;
}

/** The orchestrator's view of the queue: how much is left, and every job at the end. */
export interface Inspector {
  /** Jobs waiting, delayed or active. */
  pending(): Promise<number>;
  jobs(): Promise<StoredJob[]>;
  close(): Promise<void>;
}

export interface Target {
  producer(url: string, queue: string): Promise<Producer>;
  worker(url: string, queue: string, settings: WorkerSettings, events: WorkerEvents): Promise<RunningWorker>;
  inspector(url: string, queue: string): Promise<Inspector>;
}
