/** Messages between a sandboxed processor's child process (runner.ts) and its pool (pool.ts). */

/** The job as the child sees it: plain data (progress and log travel back as messages). */
export interface SandboxJob {
  id: string;
  name: string;
  data: unknown;
  opts: unknown;
  attemptsMade: number;
  timestamp: number;
}

export type ToChild = { type: 'run'; job: SandboxJob };

export type FromChild =
  | { type: 'ready' }
  | { type: 'progress'; value: unknown }
  | { type: 'log'; line: string }
  | { type: 'done'; result: unknown }
  | { type: 'error'; error: { name: string; message: string; stack?: string } }
  | { type: 'load-error'; message: string };
