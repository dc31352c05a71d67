export { readQueueSpools } from '../../spool/report.js';

import { printable } from '../printable.js';
import type { Snapshot } from './collect.js';

const age = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** The SPOOLS section: one line per producer whose spool holds calls; nothing when none does. */
export function renderSpools(s: Snapshot): string[] {
  const rows = (s.spools ?? []).flatMap((q) =>
    q.reports.map((r) => [
      printable(q.queue),
      printable(`${r.host}:${r.pid}`),
      r.state,
      String(r.depth),
      `${Math.ceil(r.bytes / 1024)} KiB`,
      r.oldest === null ? '-' : age(Math.max(0, Date.parse(s.at) - r.oldest)),
    ]),
  );
  if (rows.length === 0) return [];
  const header = ['QUEUE', 'PRODUCER', 'STATE', 'DEPTH', 'BYTES', 'OLDEST'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (row: string[]) =>
    row
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    '',
    'PRODUCER SPOOLS (calls held while Redis did not answer, not yet replayed; as producers report them)',
    format(header),
    ...rows.map(format),
  ];
}
