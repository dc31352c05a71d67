import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FixtureProcess } from '../test/helpers/fixture-process.js';

/** One child process in a slot: slots keep their number, a restart is a new generation with a new log. */
export interface Proc {
  name: string;
  log: string;
  child: FixtureProcess;
  /** SIGKILLed by the nemesis. */
  killed: boolean;
  /** SIGSTOPped and not yet continued. */
  stopped: boolean;
}

const READY_MS = 30_000;
const TERM_MS = 15_000;

/**
 * A fixed number of producer or worker processes. The nemesis kills and stops
 * them by slot; a killed slot gets a new process after the fault's delay.
 */
export class Pool {
  readonly all: Proc[] = [];
  private readonly current: (Proc | undefined)[];
  private readonly generation: number[];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly role: 'producer' | 'worker',
    size: number,
    private readonly dir: string,
    /** The child's environment, given its name and log file. */
    private readonly env: (name: string, log: string) => Record<string, string>,
  ) {
    this.current = new Array(size).fill(undefined);
    this.generation = new Array(size).fill(0);
  }

  get size(): number {
    return this.current.length;
  }

  private spawn(slot: number): Proc {
    const name = `${this.role[0]}${slot}.${++this.generation[slot]!}`;
    const log = join(this.dir, `${name}.log`);
    const file = fileURLToPath(new URL(`./${this.role}.ts`, import.meta.url));
    const child = new FixtureProcess(file, this.env(name, log));
    const proc: Proc = { name, log, child, killed: false, stopped: false };
    this.all.push(proc);
    this.current[slot] = proc;
    return proc;
  }

  async startAll(): Promise<void> {
    const procs = this.current.map((_, slot) => this.spawn(slot));
    await Promise.all(procs.map((p) => p.child.waitForExact('ready', READY_MS)));
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /**
   * The slot's process if it can take a fault, else the next slot's that can: a schedule
   * made before the run cannot know which slots are empty (a replacement not started yet).
   */
  private target(slot: number): [number, Proc] | undefined {
    for (let i = 0; i < this.current.length; i++) {
      const s = (slot + i) % this.current.length;
      const proc = this.current[s];
      if (proc?.child.running && !proc.stopped) return [s, proc];
    }
    return undefined;
  }

  /** SIGKILL the slot's process and start a new one after `restartMs`. False if no process can be killed. */
  kill(wanted: number, restartMs: number): boolean {
    const found = this.target(wanted);
    if (!found) return false;
    const [slot, proc] = found;
    proc.killed = true;
    proc.child.proc.kill('SIGKILL');
    this.current[slot] = undefined;
    this.later(restartMs, () => {
      if (!this.current[slot]) this.spawn(slot);
    });
    return true;
  }

  /** SIGSTOP the slot's process for `ms`, then SIGCONT. False if no process can be stopped. */
  stop(wanted: number, ms: number): boolean {
    const proc = this.target(wanted)?.[1];
    if (!proc) return false;
    proc.stopped = true;
    proc.child.proc.kill('SIGSTOP');
    this.later(ms, () => this.resume(proc));
    return true;
  }

  private resume(proc: Proc): void {
    if (!proc.stopped) return;
    proc.stopped = false;
    if (proc.child.running) proc.child.proc.kill('SIGCONT');
  }

  /** End of the faults: continue stopped processes, fill empty slots, wait until all are ready. */
  async settle(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.all) this.resume(p);
    for (let slot = 0; slot < this.current.length; slot++) if (!this.current[slot]) this.spawn(slot);
    await Promise.all(
      this.current.map((p) => p!.child.waitForExact('ready', READY_MS).catch(() => undefined)),
    );
  }

  /** Processes the nemesis did not kill, to be stopped gracefully at the end. */
  live(): Proc[] {
    return this.all.filter((p) => !p.killed);
  }

  /** SIGTERM every running process (graceful close), SIGKILL those still running after a while. */
  async terminate(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    const running = this.all.filter((p) => p.child.running);
    for (const p of running) {
      if (p.stopped) this.resume(p);
      p.child.proc.kill('SIGTERM');
    }
    await Promise.race([Promise.all(running.map((p) => p.child.exited)), sleep(TERM_MS)]);
    for (const p of running) if (p.child.running) await p.child.kill9();
  }
}
