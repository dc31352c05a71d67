import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** test/fixtures/cache-process.ts in its own node process, one JSON command at a time or many at once. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/cache-process.ts', import.meta.url));

export class CacheProcess {
  readonly proc: ChildProcess;
  stderr = '';
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly readyPromise: Promise<void>;
  readonly exited: Promise<void>;

  constructor(env: Record<string, string>) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.NODE_TEST_CONTEXT;
    this.proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.readyPromise = new Promise((resolve, reject) => {
      let partial = '';
      this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          if (line === 'ready') resolve();
          else if (line.startsWith('{')) this.reply(JSON.parse(line));
        }
      });
      this.exited.then(() => {
        reject(new Error(`cache process exited before ready: ${this.stderr}`));
        for (const p of this.pending.values()) p.reject(new Error(`cache process exited: ${this.stderr}`));
        this.pending.clear();
      });
    });
    this.readyPromise.catch(() => {});
  }

  ready(timeoutMs = 15_000): Promise<void> {
    return Promise.race([
      this.readyPromise,
      new Promise<never>((_r, reject) =>
        setTimeout(() => reject(new Error(`cache process not ready: ${this.stderr}`)), timeoutMs).unref(),
      ),
    ]);
  }

  call<T = unknown>(op: string, args: Record<string, unknown>): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  async kill9(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  private reply(msg: { id: number; ok: boolean; result?: unknown; error?: string }): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(msg.error));
  }
}

export async function startCacheProcesses(n: number, env: Record<string, string>): Promise<CacheProcess[]> {
  const procs = Array.from({ length: n }, () => new CacheProcess(env));
  await Promise.all(procs.map((p) => p.ready()));
  return procs;
}
