import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Any TypeScript fixture in its own node process, its stdout read line by line. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const running = new Set<FixtureProcess>();

export interface FixtureOptions {
  /** Default: the repository root. */
  cwd?: string;
  /** Arguments after the file. */
  args?: string[];
  /** `--import tsx` (default true); bin/hopper.js loads tsx itself, from any cwd. */
  tsx?: boolean;
}

export class FixtureProcess {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<() => void>();

  constructor(file: string, env: Record<string, string>, opts: FixtureOptions = {}) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    // Otherwise the child thinks it is a test file of this run and reports to our runner.
    delete childEnv.NODE_TEST_CONTEXT;
    const loader = opts.tsx === false ? [] : ['--import', 'tsx'];
    this.proc = spawn(process.execPath, [...loader, file, ...(opts.args ?? [])], {
      cwd: opts.cwd ?? ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
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
        running.delete(this);
        for (const l of this.listeners) l();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resolves once stdout printed exactly `line`. */
  waitForExact(line: string, timeoutMs = 15_000): Promise<string> {
    return this.waitForLine((l) => l === line, `"${line}"`, timeoutMs);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with the first line `match` accepts; rejects if the process exits first or time runs out. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`fixture did not print ${what} in ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      const check = () => {
        const line = this.lines.find(match);
        if (line !== undefined) {
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve(line);
        } else if (!this.running) {
          clearTimeout(timer);
          this.listeners.delete(check);
          reject(new Error(`fixture exited before printing ${what}; stderr: ${this.stderr}`));
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  async kill9(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** SIGKILLs every fixture a test left running. */
export async function killFixtures(): Promise<void> {
  for (const child of running) await child.kill9();
}
