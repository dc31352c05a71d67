import type { Redis } from 'ioredis';
import type { Settlement } from '../queue/worker/acker.js';
import type { HeartbeatReport } from '../queue/worker/heartbeat.js';
import type { MetricsConfig } from './options.js';
import { MetricsRecorder } from './recorder.js';

/**
 * The Worker's side of metrics, so the worker itself only calls three methods:
 * attempt timings when a handler ends, outcomes once settle.lua applied them (a
 * rejected, lost outcome is not counted), stalls from the heartbeat's reply.
 */
export class WorkerMetrics {
  private readonly recorder: MetricsRecorder;

  constructor(client: Redis, tag: string, config: MetricsConfig, onError: (err: unknown) => void) {
    this.recorder = new MetricsRecorder(client, tag, config, onError);
  }

  /** `timestamp` is when the job was added; the attempt started `tookMs` ago. */
  attempt(job: { timestamp: number }, tookMs: number): void {
    const started = Date.now() - tookMs;
    this.recorder.attempt(tookMs, started - job.timestamp);
  }

  /** Jobs this worker's scheduler made (counted as `added`, as Queue.add counts its own). */
  added(n: number): void {
    this.recorder.count('added', n);
  }

  settled(applied: Settlement[]): void {
    for (const { outcome, retryDelay } of applied) {
      if (outcome.ok) this.recorder.count('completed');
      else if (retryDelay >= 0) this.recorder.count('retried');
      else {
        this.recorder.count('failed');
        const { job, error } = outcome;
        let data: string | undefined;
        try {
          data = JSON.stringify(job.data);
        } catch {}
        this.recorder.failure({
          id: job.id,
          name: job.name,
          attempt: job.attemptsMade + 1,
          failedAt: Date.now(),
          error: { name: error.name, message: error.message, stack: error.stack },
          data,
        });
      }
    }
  }

  /** Jobs taken back from dead workers; those past maxStalls also failed. */
  heartbeat(r: HeartbeatReport): void {
    this.recorder.count('stalled', r.reclaimed + r.stalledOut);
    this.recorder.count('failed', r.stalledOut);
  }

  close(): Promise<void> {
    return this.recorder.close();
  }
}
