import { setTimeout as sleep } from 'node:timers/promises';
import { printable } from '../printable.js';
import type { Collector, QueueSnapshot, Snapshot } from './collect.js';
import { fit, render } from './render.js';

// Plain ANSI: the alternate screen keeps the user's scrollback intact, and the frame is
// redrawn from the top, clearing each line's end, so nothing flickers or scrolls.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_EOL = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
/** How long a refresh may wait for Redis before the screen says so (at least the interval). */
const REPLY_TIMEOUT_MS = 3000;

export interface LoopOptions {
  intervalMs: number;
  once: boolean;
  json: boolean;
  trend: number;
  label: string;
}

/** Keeps the last `size` snapshots' counts so each refresh shows the change over them. */
class Trend {
  private readonly history: Map<string, QueueSnapshot['counts']>[] = [];
  constructor(private readonly size: number) {}

  push(s: Snapshot): { before: Map<string, QueueSnapshot['counts']>; span: number } {
    this.history.push(new Map(s.queues.map((q) => [q.name, q.counts])));
    if (this.history.length > this.size + 1) this.history.shift();
    return { before: this.history[0]!, span: this.history.length - 1 };
  }
}

/**
 * Runs the refresh loop until q, Ctrl-C, SIGTERM or (with `once`) the first frame.
 * The screen is only taken over when stdout is a terminal and the output is not JSON:
 * piped, each frame is printed in full, one after another.
 */
export async function runMonitor(collector: Collector, opts: LoopOptions): Promise<void> {
  const out = process.stdout;
  const interactive = out.isTTY === true && !opts.json && !opts.once;
  let stopped = false;
  let wake: (() => void) | undefined;
  const abort = new AbortController();
  const stop = () => {
    stopped = true;
    abort.abort();
    wake?.();
  };
  const draw = (lines: string[]) => {
    const shown = fit(lines, out.columns, out.rows);
    out.write(`${HOME}${shown.map((l) => l + CLEAR_EOL).join('\n')}${CLEAR_BELOW}`);
  };
  const stdin = process.stdin;
  const onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === 'q' || k === 'Q' || k === '\x03' || k === '\x1b') stop();
  };
  const restore = () => {
    if (!interactive) return;
    if (stdin.isTTY) stdin.setRawMode(false);
    out.write(LEAVE);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Whatever ends the process, the terminal gets its cursor and screen back.
  process.once('exit', restore);
  if (interactive) {
    out.write(ENTER);
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      stdin.on('data', onKey);
      stdin.resume();
    }
  }
  const trend = new Trend(opts.trend);
  const stopped$ = new Promise<'stopped'>((resolve) =>
    abort.signal.addEventListener('abort', () => resolve('stopped')),
  );
  // A refresh still waiting on Redis is awaited again, not repeated: no pile-up while it is down.
  let pending: Promise<Snapshot> | undefined;
  let lastGood: string[] = [];
  let lastAt = '';
  try {
    let first = true;
    while (!stopped) {
      pending ??= collector.snapshot();
      const result = await Promise.race([
        pending.then(
          (snapshot) => ({ snapshot }),
          (err: Error) => ({ err, answered: true }),
        ),
        stopped$,
        sleep(Math.max(opts.intervalMs, REPLY_TIMEOUT_MS)).then(() => ({
          answered: false,
          err: new Error(
            `no reply from Redis within ${Math.max(opts.intervalMs, REPLY_TIMEOUT_MS) / 1000} s`,
          ),
        })),
      ]);
      if (result === 'stopped') break;
      if (!('err' in result) || result.answered) pending = undefined;
      if ('err' in result) {
        // Keep watching: Redis may come back. A single refresh (--once) reports the failure instead.
        if (opts.once) throw result.err;
        const message = `Redis error at ${new Date().toISOString().slice(11, 19)} UTC: ${result.err.message} (retrying)`;
        if (opts.json)
          out.write(`${JSON.stringify({ at: new Date().toISOString(), error: result.err.message })}\n`);
        else if (interactive)
          draw([
            printable(message),
            lastGood.length > 0 ? `the figures below are from ${lastAt} UTC` : '',
            ...lastGood.slice(1),
          ]);
        else out.write(`${printable(message)}\n`);
      } else {
        const { snapshot } = result;
        const { before, span } = trend.push(snapshot);
        if (opts.json) {
          out.write(`${JSON.stringify(snapshot)}\n`);
        } else {
          const lines = render(
            {
              snapshot,
              before,
              trendSpan: span,
              label: opts.label,
              intervalMs: opts.once ? 0 : opts.intervalMs,
            },
            out.columns || 120,
          );
          if (interactive) {
            draw(lines);
            lastGood = lines;
            lastAt = snapshot.at.slice(11, 19);
          } else {
            out.write(`${first ? '' : '\n'}${lines.join('\n')}\n`);
          }
        }
      }
      first = false;
      if (opts.once) break;
      await sleep(opts.intervalMs, undefined, { signal: abort.signal }).catch(() => {});
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (interactive) {
      stdin.off('data', onKey);
      stdin.pause();
    }
    restore();
    process.off('exit', restore);
  }
}
