import { wrap } from '../demo-status.js';
import { STATES } from '../engine.js';
import { printable } from '../printable.js';
import type { QueueSnapshot, Snapshot } from './collect.js';
import { renderSpools } from './spools.js';

/** The count columns: the states of `hopper stats` with flow parents waiting for children, then paused as a yes/no column. */
const COLUMNS = [...STATES, 'waitingChildren'] as const;
type State = (typeof COLUMNS)[number];
/** Headers: `waitingChildren` is CHILDREN, explained in the legend (the full name would widen every row). */
const heading = (c: State) => (c === 'waitingChildren' ? 'CHILDREN' : c.toUpperCase());

export interface Frame {
  snapshot: Snapshot;
  /** Counts per queue from the oldest refresh still in the trend window (undefined: not seen then). */
  before: Map<string, QueueSnapshot['counts']>;
  /** Refreshes the trend spans (0 on the first). */
  trendSpan: number;
  label: string;
  /** 0 for a single refresh (--once): no interval, no key to press, no trend. */
  intervalMs: number;
}

const ms = (v: number) => (v === 0 ? '-' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
const rate = (v: number) => (v === 0 ? '0' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
const signed = (v: number) => (v > 0 ? `+${v}` : v < 0 ? String(v) : '0');

/** Columns aligned: the first left, the others right, two spaces apart. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

/** One refresh as plain lines (no escape codes: the loop positions them). */
export function render(frame: Frame, columns = 120): string[] {
  const { snapshot: s } = frame;
  const time = s.at.slice(11, 19);
  const lines = [
    frame.intervalMs > 0
      ? `Hopper monitor  ${frame.label}  every ${frame.intervalMs} ms  ${time} UTC  (q to quit)`
      : `Hopper monitor  ${frame.label}  ${time} UTC`,
    `Redis: ping ${s.redis.pingMs.toFixed(2)} ms, memory used ${printable(s.redis.usedMemory)}, ${
      s.redis.warnings.length === 0 ? 'durability OK' : `${s.redis.warnings.length} warning(s) below`
    }`,
    '',
  ];
  if (s.queues.length === 0) {
    lines.push('No queues registered yet: they appear once a producer or worker uses them.');
  } else {
    const header = ['QUEUE', ...COLUMNS.map(heading), 'PAUSED'];
    lines.push(
      'JOBS',
      ...table(
        header,
        s.queues.map((q) => [
          printable(q.name),
          ...COLUMNS.map((st) => String(q.counts[st] ?? 0)),
          q.paused ? 'yes' : 'no',
        ]),
      ),
    );
    if (frame.intervalMs > 0)
      lines.push(
        '',
        frame.trendSpan === 0
          ? 'TRENDS (change since the first refresh: appears from the next one)'
          : `TRENDS (change over the last ${frame.trendSpan} refresh${frame.trendSpan === 1 ? '' : 'es'}, ~${((frame.trendSpan * frame.intervalMs) / 1000).toFixed(1)} s)`,
        ...table(
          header.slice(0, -1),
          s.queues.map((q) => {
            const before = frame.before.get(q.name);
            return [
              printable(q.name),
              ...COLUMNS.map((st: State) =>
                before ? signed((q.counts[st] ?? 0) - (before[st] ?? 0)) : 'new',
              ),
            ];
          }),
        ),
      );
    lines.push(
      '',
      `THROUGHPUT AND LATENCY (this minute and the one before, from Hopper's metrics)`,
      ...table(
        ['QUEUE', 'COMPLETED/MIN', 'FAILED/MIN', 'WAIT P95', 'RUN P95'],
        s.queues.map((q) => [
          printable(q.name),
          rate(q.completedPerMin),
          rate(q.failedPerMin),
          ms(q.waitP95),
          ms(q.runP95),
        ]),
      ),
    );
  }
  lines.push(...renderSpools(s));
  if (s.unregistered.length > 0) lines.push('');
  for (const name of s.unregistered) {
    lines.push(
      `note: no producer or worker has used queue "${printable(name)}" yet (a typo?): its counts stay 0 until one does`,
    );
  }
  for (const name of s.skipped)
    lines.push(`skipped registered name "${printable(name)}" (not a valid queue name)`);
  if (s.redis.warnings.length > 0) lines.push('');
  // Broken at spaces, not cut: these say how to fix the server.
  for (const w of s.redis.warnings)
    lines.push(...wrap(`warning: ${printable(w)}`, columns - 1, '         ').split('\n'));
  // The legend for a first-time reader; broken at its parts on a narrow terminal.
  const legend =
    'waiting: ready to run | delayed: due later | active: handler running | reserved: fetched by a worker, not started | children: flow parents waiting for their children';
  lines.push('', ...wrap(legend, columns - 1, '').split('\n'));
  return lines;
}

/** Lines cut to the terminal width: a wrapped line would push the frame down and break the redraw. */
export function fit(lines: string[], columns: number | undefined, rows: number | undefined): string[] {
  const cut = columns ? lines.map((l) => (l.length > columns ? `${l.slice(0, columns - 1)}…` : l)) : lines;
  return rows && cut.length > rows ? cut.slice(0, rows) : cut;
}
