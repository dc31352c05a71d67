import { TimeoutError } from '../../util/errors.js';
import type { HeldJob } from './job.js';

/**
 * Attempt timeouts without a timer per job. Jobs with the same timeout start in
 * order, so their deadlines are in order too: one FIFO and one timer per distinct
 * timeout value, armed for the oldest running job. Finished jobs leave their
 * FIFO lazily, when the timer next looks at it.
 */
export class Timeouts {
  private readonly lanes = new Map<number, { jobs: HeldJob[]; timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly onTimeout: (job: HeldJob, err: TimeoutError) => void) {}

  /**
   * Starts the clock of an attempt; `isRunning` tells later whether it is still
   * going, `running` is how many attempts run now (to bound the FIFOs' garbage).
   */
  watch(job: HeldJob, timeoutMs: number, isRunning: (job: HeldJob) => boolean, running: number): void {
    if (timeoutMs <= 0) return;
    job.deadline = Date.now() + timeoutMs;
    let lane = this.lanes.get(timeoutMs);
    if (!lane) {
      lane = { jobs: [], timer: undefined };
      this.lanes.set(timeoutMs, lane);
    }
    lane.jobs.push(job);
    // A long job at the head keeps finished ones behind it: compact now and then.
    if (lane.jobs.length > 1024 && lane.jobs.length > 4 * running) lane.jobs = lane.jobs.filter(isRunning);
    if (!lane.timer) this.arm(timeoutMs, isRunning);
  }

  private arm(timeoutMs: number, isRunning: (job: HeldJob) => boolean): void {
    const lane = this.lanes.get(timeoutMs)!;
    const now = Date.now();
    while (lane.jobs.length > 0) {
      const head = lane.jobs[0]!;
      if (!isRunning(head)) {
        lane.jobs.shift();
      } else if (head.deadline <= now) {
        lane.jobs.shift();
        this.onTimeout(head, new TimeoutError(`job ${head.id} timed out after ${timeoutMs} ms`));
      } else break;
    }
    const head = lane.jobs[0];
    lane.timer = head ? setTimeout(() => this.arm(timeoutMs, isRunning), head.deadline - now) : undefined;
  }

  stop(): void {
    for (const lane of this.lanes.values()) clearTimeout(lane.timer);
    this.lanes.clear();
  }
}
