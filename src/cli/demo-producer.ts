import { setTimeout as sleep } from 'node:timers/promises';
import type { DemoJob } from './demo-jobs.js';

/** What the producer needs from a Queue: only the bulk add. */
export interface JobSink {
  addBulk(jobs: DemoJob[]): Promise<string[]>;
}

const TICK_MS = 50;

/**
 * Adds jobs at a steady rate: every 50 ms it adds what the target rate owes since
 * the start, so slow adds are made up for instead of the rate drifting down,
 * but at most one second's worth at once so an outage does not end in a flood.
 */
export class Producer {
  added = 0;
  errors = 0;
  lastError: string | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly sink: JobSink,
    private readonly rate: number,
    private readonly makeJob: () => DemoJob,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops adding and waits for the add in flight, so nothing is written after it resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    const startedAt = performance.now();
    let owedBase = 0; // jobs forgiven after an outage, so the rate does not try to catch up
    while (!this.stopping) {
      const elapsed = (performance.now() - startedAt) / 1000;
      let due = Math.floor(this.rate * elapsed) - owedBase - this.added;
      if (due > this.rate) {
        owedBase += due - Math.ceil(this.rate);
        due = Math.ceil(this.rate);
      }
      if (due > 0) {
        const batch = Array.from({ length: due }, this.makeJob);
        try {
          await this.sink.addBulk(batch);
          this.added += batch.length;
        } catch (err) {
          // Redis down or restarting: keep going, the status line shows the errors.
          this.errors++;
          this.lastError = err instanceof Error ? err.message : String(err);
          owedBase += batch.length;
        }
      }
      await sleep(TICK_MS);
    }
  }
}
