import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, ValidationError } from '../../util/errors.js';
import type { Job } from '../types.js';
import type { FromChild, ToChild } from './protocol.js';

/** The runner next to this file: runner.js once built, runner.ts under tsx. */
function runnerPath(): string {
  const js = fileURLToPath(new URL('./runner.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./runner.ts', import.meta.url));
}

/** A handler that runs each job in a child process, plus close() to end the idle ones. */
export interface SandboxedHandler<D = unknown, R = unknown> {
  (job: Job<D>): Promise<R>;
  close(): Promise<void>;
}

/**
 * Runs jobs in child processes (node:child_process fork): CPU-bound handlers stop
 * blocking the worker's event loop (leases, heartbeats and acknowledgements go on),
 * and a processor that crashes (throws outside a job, calls process.exit, runs out of
 * memory) fails only its own job; the next job gets a fresh process. Children are
 * reused, one job at a time each, so the pool grows to the worker's concurrency.
 * `file` exports `default async (job) => result`; `job` has id, name, data, opts,
 * attemptsMade, timestamp, updateProgress and log. A job whose signal aborts
 * (timeout, cancel, close) has its child killed.
 */
export function sandbox<D = unknown, R = unknown>(file: string | URL): SandboxedHandler<D, R> {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  if (typeof path !== 'string' || path === '')
    throw new ValidationError('file', 'must be a path or file URL');
  if (!existsSync(path)) throw new ValidationError('file', `no such file: ${path}`);
  const idle: ChildProcess[] = [];
  const all = new Set<ChildProcess>();
  let closed = false;

  const spawnChild = (): ChildProcess => {
    const child = fork(runnerPath(), [path], { serialization: 'advanced', stdio: 'inherit' });
    all.add(child);
    child.once('exit', () => {
      all.delete(child);
      const i = idle.indexOf(child);
      if (i !== -1) idle.splice(i, 1);
    });
    return child;
  };

  const handler = ((job: Job<D>) =>
    new Promise<R>((resolve, reject) => {
      if (closed) return reject(new Error('sandbox is closed'));
      const child = idle.pop() ?? spawnChild();
      child.ref();
      let settled = false;
      const end = (reuse: boolean) => {
        settled = true;
        child.off('message', onMessage);
        child.off('exit', onExit);
        job.signal.removeEventListener('abort', onAbort);
        if (reuse && !closed && child.connected) {
          child.unref();
          idle.push(child);
        } else child.kill('SIGKILL');
      };
      const onMessage = (m: FromChild) => {
        if (settled) return;
        if (m.type === 'progress') job.updateProgress(m.value).catch(() => {});
        else if (m.type === 'log') job.log(m.line).catch(() => {});
        else if (m.type === 'done') {
          end(true);
          resolve(m.result as R);
        } else if (m.type === 'error') {
          end(true);
          const e =
            m.error.name === 'UnrecoverableError'
              ? new UnrecoverableError(m.error.message)
              : new Error(m.error.message);
          e.name = m.error.name;
          e.stack = m.error.stack;
          reject(e);
        } else if (m.type === 'load-error') {
          end(false);
          reject(new Error(`sandboxed processor could not load: ${m.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        if (settled) return;
        end(false);
        reject(
          new Error(`sandboxed processor exited (${signal ?? `code ${code}`}) while running job ${job.id}`),
        );
      };
      const onAbort = () => {
        if (settled) return;
        end(false);
        reject(job.signal.reason);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      job.signal.addEventListener('abort', onAbort);
      const message: ToChild = {
        type: 'run',
        job: {
          id: job.id,
          name: job.name,
          data: job.data,
          opts: job.opts,
          attemptsMade: job.attemptsMade,
          timestamp: job.timestamp,
        },
      };
      child.send(message);
    })) as SandboxedHandler<D, R>;

  handler.close = async () => {
    closed = true;
    const exits = [...all].map(
      (c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))),
    );
    for (const c of all) c.kill('SIGTERM');
    await Promise.all(exits);
  };
  return handler;
}
