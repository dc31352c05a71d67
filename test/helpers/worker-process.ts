import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Queue } from '../../src/index.js';

/** Child worker processes (test/fixtures/worker-process.ts) and small polling helpers for tests that kill things. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.ts', import.meta.url));

/** A logger for tests that provoke errors on purpose. */
export const quiet = pino({ level: 'silent' });

const children = new Set<WorkerProcess>();

/** SIGKILLs every worker process a test left running. */
export async function killWorkerProcesses(): Promise<void> {
  for (const child of children) await child.kill9();
}

let counter = 0;
/** A queue name no other test (or earlier run against the same server) uses. */
export function uniqueName(label: string): string {
  return `${label}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;
}

/** Polls `check` until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await sleep(10);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** test/fixtures/worker-process.ts running in its own node process. */
export class WorkerProcess {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<() => void>();

  constructor(env: Record<string, string>) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.NODE_TEST_CONTEXT;
    this.proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(this);
    let partial = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const l of this.listeners) l();
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        children.delete(this);
        for (const l of this.listeners) l();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves once stdout printed exactly `line`; rejects if the process exits first or time runs out. */
  waitForLine(line: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `worker process did not print "${line}" in ${timeoutMs} ms; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (this.lines.includes(line)) {
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve();
        } else if (!this.running) {
          clearTimeout(timer);
          this.listeners.delete(check);
          reject(new Error(`worker process exited before printing "${line}"; stderr: ${this.stderr}`));
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  /** SIGKILL (a crash: no close, no release) and wait until the process is gone. */
  async kill9(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = new WorkerProcess(env);
  await child.waitForLine('ready', 15_000);
  return child;
}

/** Handler start lines written by worker processes (one per attempt started). */
export function logLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export async function stateOf(queue: Queue, id: string): Promise<string | undefined> {
  return (await queue.getJob(id))?.state;
}
