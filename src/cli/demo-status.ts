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

/**
 * The queue's counts per state, except completed: retention keeps only the last 1000 completed
 * jobs, so that count sits at 1000 and says nothing (the completed rate does).
 */
export function formatCounts(counts: JobCounts): string {
  return STATES.filter((state) => state !== 'completed')
    .map((state) => `${state} ${compact(counts[state])}`)
    .join(' ');
}

export function formatByPriority(byPriority: Map<number, number>): string {
  return [...byPriority.entries()]
    .sort(([a], [b]) => b - a)
    .map(([priority, n]) => `${priority}:${compact(n)}`)
    .join(' ');
}

/**
 * Prints one status line a second. On a terminal the line is rewritten in place
 * (`\r`, clear to end of line, never wider than the terminal so it never wraps: parts
 * that do not fit are left out whole, the least useful first); in a pipe or log every
 * tick is its own full line, which is what a log reader wants.
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

  /** The line's parts, most important first: on a terminal the last ones go when they do not fit. */
  private render(counts: JobCounts | undefined): string[] {
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
    ];
    const errors = this.tally.errors();
    if (errors > 0) parts.push(`errors ${errors}`);
    if (this.extra) parts.push(this.extra());
    parts.push(`by priority ${formatByPriority(this.tally.completedByPriority)}`);
    return parts;
  }

  private write(parts: string[]): void {
    if (this.out.isTTY) {
      const width = Math.max(20, (this.out.columns || 80) - 1);
      this.out.write(`\r${fit(parts, width)}\x1b[K`);
      this.wroteInPlace = true;
    } else {
      this.out.write(`${parts.join(SEPARATOR)}\n`);
    }
  }
}

const SEPARATOR = ' | ';

/** The first two parts always (cut to `width` if need be), then each next part while it fits whole. */
export function fit(parts: string[], width: number): string {
  let line = parts.slice(0, 2).join(SEPARATOR);
  for (const part of parts.slice(2)) {
    if (line.length + SEPARATOR.length + part.length > width) break;
    line += SEPARATOR + part;
  }
  return line.slice(0, width);
}

/**
 * On a terminal, `text` broken at spaces into lines no wider than the terminal, the next ones
 * indented by `indent`: a wrapped line would otherwise break mid-word. Unchanged in a pipe.
 */
export function wrapForTerminal(
  text: string,
  indent: string,
  out: NodeJS.WriteStream = process.stdout,
): string {
  if (!out.isTTY) return text;
  return wrap(text, Math.max(40, (out.columns || 80) - 1), indent);
}

export function wrap(text: string, width: number, indent: string): string {
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let line = '';
  for (const word of text.slice(lead.length).split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : lead + word;
  }
  lines.push(line);
  return lines.join('\n');
}
