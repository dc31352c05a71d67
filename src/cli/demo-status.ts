import type { JobCounts } from '../queue/types.js';
import { STATES } from './engine.js';

/** Running totals kept by the demo (Redis keeps only recent completed jobs). */
export interface Tally {
  added(): number;
  completed: number;
  completedByPriority: Map<number, number>;
  /** Adds and worker errors so far: shown only when non-zero. */
  errors(): number;
}

/** 12345 -> "12.3k": the line must fit a terminal row even after hours. */
export function compact(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

export function formatCounts(counts: JobCounts): string {
  return STATES.map((state) => `${state} ${compact(counts[state])}`).join(' ');
}

export function formatByPriority(byPriority: Map<number, number>): string {
  return [...byPriority.entries()]
    .sort(([a], [b]) => b - a)
    .map(([priority, n]) => `${priority}:${compact(n)}`)
    .join(' ');
}

/**
 * Prints one status line a second. On a terminal the line is rewritten in place
 * (`\r`, clear to end of line, cut to the width so it never wraps); in a pipe or
 * log every tick is its own line, which is what a log reader wants.
 */
export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private readonly startedAt = performance.now();
  private last = { at: this.startedAt, added: 0, completed: 0 };
  private wroteInPlace = false;

  constructor(
    private readonly readCounts: () => Promise<JobCounts>,
    private readonly tally: Tally,
    private readonly out: NodeJS.WriteStream = process.stdout,
    /** More of the line, e.g. the tracking pipeline's figures. */
    private readonly extra?: () => string,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), 1000);
  }

  /** Stops ticking and ends an in-place line, so later output starts on a fresh line. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined; // a read still in flight sees this and prints nothing
    if (this.wroteInPlace) this.out.write('\n');
    this.wroteInPlace = false;
  }

  private async tick(): Promise<void> {
    // A slow Redis must not stack up reads: skip this tick instead.
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const counts = await this.readCounts().catch(() => undefined);
      if (this.timer === undefined) return;
      this.write(this.render(counts));
    } finally {
      this.inFlight = false;
    }
  }

  private render(counts: JobCounts | undefined): string {
    const now = performance.now();
    const seconds = (now - this.last.at) / 1000;
    const added = this.tally.added();
    const completed = this.tally.completed;
    const addedRate = Math.round((added - this.last.added) / seconds);
    const completedRate = Math.round((completed - this.last.completed) / seconds);
    this.last = { at: now, added, completed };

    const elapsed = `${Math.round((now - this.startedAt) / 1000)}s`.padStart(5);
    const parts = [
      `${elapsed}  added ${addedRate}/s  completed ${completedRate}/s`,
      counts ? formatCounts(counts) : '(Redis not answering)',
      `by priority ${formatByPriority(this.tally.completedByPriority)}`,
    ];
    const errors = this.tally.errors();
    if (errors > 0) parts.push(`errors ${errors}`);
    if (this.extra) parts.push(this.extra());
    return parts.join(' | ');
  }

  private write(line: string): void {
    if (this.out.isTTY) {
      const width = Math.max(20, (this.out.columns || 80) - 1);
      this.out.write(`\r${line.slice(0, width)}\x1b[K`);
      this.wroteInPlace = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }
}
