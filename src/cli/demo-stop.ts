/**
 * Where bin/hopper.js keeps the signals that arrive while it is still loading the CLI (seconds
 * through tsx on a cold start), so that they reach the demo instead of killing it half-started.
 */
export const EARLY_SIGNALS = Symbol.for('hopper.demo.earlySignals');

interface EarlySignals {
  signals: NodeJS.Signals[];
  handler: (signal: NodeJS.Signals) => void;
}

/**
 * When `hopper demo` should end: Ctrl-C, SIGTERM or the end of `--duration`. Heard from the
 * first moment, startup included: a signal then lets the step under way finish (Redis,
 * PGlite and the server cannot be interrupted half-started without leaving data behind)
 * and the demo shuts down from there. A signal while already stopping means "now".
 */
export class StopSignal {
  reason: string | undefined;
  readonly stopped: Promise<string>;
  /** Called once, when the stop is asked for (the demo prints a notice during startup). */
  onStop: (reason: string) => void = () => {};
  private resolve!: (reason: string) => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly forceExit: () => void) {
    this.stopped = new Promise((resolve) => {
      this.resolve = resolve;
    });
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
    const holder = process as unknown as Record<symbol, EarlySignals | undefined>;
    const early = holder[EARLY_SIGNALS];
    if (early) {
      process.off('SIGINT', early.handler);
      process.off('SIGTERM', early.handler);
      holder[EARLY_SIGNALS] = undefined;
      for (const signal of early.signals) this.handler(signal);
    }
  }

  private readonly handler = (signal: NodeJS.Signals): void => {
    if (this.reason !== undefined) this.forceExit();
    else this.stop(signal === 'SIGINT' ? 'Ctrl-C' : signal);
  };

  stop(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    clearTimeout(this.timer);
    this.onStop(reason);
    this.resolve(reason);
  }

  /** Stops after `seconds` too, counted from now. */
  after(seconds: number): void {
    if (this.reason === undefined)
      this.timer = setTimeout(() => this.stop(`${seconds} s elapsed`), seconds * 1000);
  }

  dispose(): void {
    clearTimeout(this.timer);
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}
