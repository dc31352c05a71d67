import type { RunResult } from './run-one.js';

/** The report's columns: header, and how to read the figure from a run. */
const COLUMNS: [string, (r: RunResult) => string | number][] = [
  ['target', (r) => r.target],
  ['seed', (r) => r.seed],
  ['chaos s', (r) => r.settings.chaosMs / 1000],
  [
    'faults kw/kp/stop/redis/ck',
    (r) =>
      `${r.faults['kill-worker']}/${r.faults['kill-producer']}/${r.faults['stop-worker']}/${r.faults['restart-redis']}/${r.faults['client-kill']}`,
  ],
  ['redis kills es/al', (r) => `${r.faults.everysecKills}/${r.faults.alwaysKills}`],
  ['acknowledged', (r) => r.figures.acknowledged],
  ['unacked', (r) => r.figures.unacknowledged],
  ['completed', (r) => r.figures.completed],
  ['lost', (r) => r.figures.lost],
  ['stuck', (r) => r.figures.stuck],
  ['failed', (r) => r.figures.failed],
  ['dup adds', (r) => r.figures.duplicateAdds],
  ['dup completions', (r) => r.figures.duplicateCompletions],
  ['starts after completion', (r) => r.figures.startsAfterCompletion],
  ['re-runs', (r) => r.figures.reruns],
  ['refused', (r) => r.figures.refusedOutcomes],
  ['stopped workers', (r) => r.figures.stoppedWorkers],
  ['drained s', (r) => (r.drainedInMs === undefined ? 'no' : (r.drainedInMs / 1000).toFixed(1))],
];

/** A Markdown table: readable in a terminal and pasted as is into docs/reliability.md. */
export function table(results: RunResult[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...results.map((r) => COLUMNS.map(([, f]) => String(f(r))))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Examples of each anomaly and crashed processes, so a failure can be looked up in the logs (--keep). */
export function details(results: RunResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    for (const [what, list] of Object.entries(r.figures.examples)) {
      out.push(`${r.target} seed ${r.seed} ${what}: ${list.join('; ')}`);
    }
    for (const c of r.crashed) out.push(`${r.target} seed ${r.seed} exited on its own: ${c}`);
  }
  return out.join('\n');
}

/** What makes a Hopper run fail: an acknowledged job lost, a job stuck, or one add stored twice. */
export function verdict(r: RunResult): boolean {
  return r.figures.lost === 0 && r.figures.stuck === 0 && r.figures.duplicateAdds === 0;
}

/** The last line: PASS or FAIL for Hopper, with the three figures summed over its runs. */
export function summary(results: RunResult[]): { line: string; pass: boolean } {
  const hopper = results.filter((r) => r.target === 'hopper');
  const sum = (f: (r: RunResult) => number, rs: RunResult[]) => rs.reduce((s, r) => s + f(r), 0);
  const part = (label: string, rs: RunResult[]) =>
    `${label}: acknowledged ${sum((r) => r.figures.acknowledged, rs)}, lost ${sum((r) => r.figures.lost, rs)}, ` +
    `stuck ${sum((r) => r.figures.stuck, rs)}, duplicate adds ${sum((r) => r.figures.duplicateAdds, rs)}`;
  const pass = hopper.every(verdict);
  const parts = [];
  if (hopper.length) parts.push(part('hopper', hopper));
  const bull = results.filter((r) => r.target === 'bullmq');
  if (bull.length) parts.push(`${part('bullmq', bull)} (not judged)`);
  return { line: `chaos ${hopper.length ? (pass ? 'PASS' : 'FAIL') : 'DONE'}: ${parts.join('; ')}`, pass };
}
