/**
 * A background task on a timer, with the one start/stop lifecycle every
 * background service here shares: runs `task` every `everyMs`, never two runs at
 * once (during an outage runs must not pile up and replay together), reports
 * errors to `onError`, and never keeps the process alive.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly everyMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** `now`: also run once at once rather than only after the first interval. */
  start(opts: { now?: boolean } = {}): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
    if (opts.now) this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.running) return;
    this.running = true;
    this.task()
      .catch(this.onError)
      .finally(() => {
        this.running = false;
      });
  }
}
