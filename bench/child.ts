/** Runs one measurement child process and reads back its JSON result line. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export type ChildOutcome<T> = { ok: true; value: T } | { ok: false; error: string; timeout?: boolean };

/**
 * `node --import tsx <script> ...args` in the repo root. The child's result is the last stdout
 * line that parses as a JSON object with an `ok` field (libraries may log to stdout too).
 */
export function runChild<T>(script: string, args: string[], timeoutMs: number): Promise<ChildOutcome<T>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        resolve({ ok: false, error: `timeout after ${timeoutMs / 1000} s`, timeout: true });
        return;
      }
      const result = parseResult(stdout);
      if (result && result.ok === true) resolve({ ok: true, value: result.figures as T });
      else if (result && typeof result.error === 'string') resolve({ ok: false, error: result.error });
      else {
        const tail = stderr.trim().split('\n').slice(-5).join(' | ');
        resolve({
          ok: false,
          error: `child exited (${signal ?? code}) without a result${tail ? `: ${tail}` : ''}`,
        });
      }
    });
  });
}

function parseResult(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object' && 'ok' in parsed) return parsed as Record<string, unknown>;
    } catch {
      // a library's log line, not ours
    }
  }
  return undefined;
}
