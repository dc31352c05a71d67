import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Queue } from '../../src/index.js';
import { FixtureProcess, killFixtures } from './fixture-process.js';

/** Child worker processes (test/fixtures/worker-process.ts) and small polling helpers for tests that kill things. */
const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.ts', import.meta.url));

/** A logger for tests that provoke errors on purpose. */
export const quiet = pino({ level: 'silent' });

/** SIGKILLs every worker process a test left running. */
export const killWorkerProcesses = killFixtures;

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

/** test/fixtures/worker-process.ts (a queue worker) running in its own node process. */
export class WorkerProcess extends FixtureProcess {
  constructor(env: Record<string, string>) {
    super(FIXTURE, env);
  }
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = new WorkerProcess(env);
  await child.waitForExact('ready', 15_000);
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
