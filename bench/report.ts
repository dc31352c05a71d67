/** Turns the runs into the markdown table, ratios and targets printed and written to docs. */
import type { ChildOutcome } from './child.js';
import type { CaseName, Figures } from './figures.js';
import { LIB_LABELS, type LibName } from './libs/types.js';
import { type Summary, summarize } from './stats.js';

/** A case on the default server, or on the AOF everysec server. */
export type Scenario = CaseName | `${CaseName}@aof`;
export type Outcome = ChildOutcome<Figures>;
export type Results = Map<string, Outcome[]>;

export const resultKey = (scenario: Scenario, lib: LibName): string => `${scenario}|${lib}`;

interface Row {
  label: string;
  scenario: Scenario;
  pick: (f: Figures) => number | undefined;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
}

const rate = (f: Figures) => f.rate;
const ROWS: Row[] = [
  {
    label: 'enqueue: add(), 100 in flight',
    scenario: 'enqueue',
    pick: rate,
    unit: 'jobs/s',
    better: 'higher',
    digits: 0,
  },
  {
    label: 'bulk: addBulk, 1,000 per call',
    scenario: 'bulk',
    pick: rate,
    unit: 'jobs/s',
    better: 'higher',
    digits: 0,
  },
  {
    label: 'process, 1 worker, c=1',
    scenario: 'process-c1',
    pick: rate,
    unit: 'jobs/s',
    better: 'higher',
    digits: 0,
  },
  {
    label: 'process, 1 worker, c=100',
    scenario: 'process-c100',
    pick: rate,
    unit: 'jobs/s',
    better: 'higher',
    digits: 0,
  },
  {
    label: 'Node CPU per job, process c=100',
    scenario: 'process-c100',
    pick: (f) => f.nodeUsPerJob,
    unit: 'µs',
    better: 'lower',
    digits: 1,
  },
  {
    label: 'Redis CPU per job, process c=100',
    scenario: 'process-c100',
    pick: (f) => f.redisUsPerJob,
    unit: 'µs',
    better: 'lower',
    digits: 1,
  },
  {
    label: 'Node CPU per add(), enqueue',
    scenario: 'enqueue',
    pick: (f) => f.nodeUsPerJob,
    unit: 'µs',
    better: 'lower',
    digits: 1,
  },
  {
    label: 'Redis CPU per add(), enqueue',
    scenario: 'enqueue',
    pick: (f) => f.redisUsPerJob,
    unit: 'µs',
    better: 'lower',
    digits: 1,
  },
  {
    label: 'add→start latency p50, 1,000 jobs/s, c=10',
    scenario: 'latency',
    pick: (f) => f.p50,
    unit: 'ms',
    better: 'lower',
    digits: 2,
  },
  {
    label: 'add→start latency p95',
    scenario: 'latency',
    pick: (f) => f.p95,
    unit: 'ms',
    better: 'lower',
    digits: 2,
  },
  {
    label: 'add→start latency p99',
    scenario: 'latency',
    pick: (f) => f.p99,
    unit: 'ms',
    better: 'lower',
    digits: 2,
  },
  {
    label: 'AOF everysec: enqueue',
    scenario: 'enqueue@aof',
    pick: rate,
    unit: 'jobs/s',
    better: 'higher',
    digits: 0,
  },
  {
    label: 'AOF everysec: process c=100',
    scenario: 'process-c100@aof',
    pick: rate,
    unit: 'jobs/s',
    better: 'higher',
    digits: 0,
  },
];

interface Target {
  text: string;
  scenario: Scenario;
  /** Compared against Hopper's median: a ratio to another library, or an absolute bound. */
  versus?: LibName;
  pick: (f: Figures) => number | undefined;
  atLeast?: number;
  atMost?: number;
}

const TARGETS: Target[] = [
  {
    text: 'process at c=100 ≥ 5x BullMQ',
    scenario: 'process-c100',
    versus: 'bullmq',
    pick: rate,
    atLeast: 5,
  },
  { text: 'enqueue ≥ 2.5x bee-queue', scenario: 'enqueue', versus: 'bee', pick: rate, atLeast: 2.5 },
  {
    text: 'process at c=1 ≥ 2.5x BullMQ',
    scenario: 'process-c1',
    versus: 'bullmq',
    pick: rate,
    atLeast: 2.5,
  },
  {
    text: 'p99 add→start latency at 1,000 jobs/s ≤ 1 ms',
    scenario: 'latency',
    pick: (f) => f.p99,
    atMost: 1,
  },
];

function fmt(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function summaryOf(
  results: Results,
  scenario: Scenario,
  lib: LibName,
  pick: Row['pick'],
): Summary | undefined {
  const outcomes = results.get(resultKey(scenario, lib)) ?? [];
  const values: number[] = [];
  for (const o of outcomes) {
    const v = o.ok ? pick(o.value) : undefined;
    if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
  }
  return summarize(values);
}

function cell(results: Results, row: Row, lib: LibName): string {
  const outcomes = results.get(resultKey(row.scenario, lib));
  if (!outcomes || outcomes.length === 0) return 'not run';
  const s = summaryOf(results, row.scenario, lib, row.pick);
  if (!s) return outcomes.some((o) => !o.ok && o.timeout) ? 'timeout' : 'error';
  const text =
    s.n > 1
      ? `${fmt(s.median, row.digits)} (${fmt(s.min, row.digits)}–${fmt(s.max, row.digits)})`
      : fmt(s.median, row.digits);
  return s.n < outcomes.length ? `${text} [${s.n}/${outcomes.length} ok]` : text;
}

function ratio(results: Results, row: Pick<Row, 'scenario' | 'pick'>, other: LibName): number | undefined {
  const h = summaryOf(results, row.scenario, 'hopper', row.pick);
  const o = summaryOf(results, row.scenario, other, row.pick);
  return h && o && o.median > 0 ? h.median / o.median : undefined;
}

export function renderTable(results: Results, libs: readonly LibName[]): string {
  const others = libs.filter((l) => l !== 'hopper');
  const showRatios = libs.includes('hopper');
  const head = ['figure', 'unit', 'better', ...libs.map((l) => LIB_LABELS[l])];
  if (showRatios) head.push(...others.map((l) => `Hopper/${LIB_LABELS[l]}`));
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`];
  for (const row of ROWS) {
    if (!libs.some((l) => results.has(resultKey(row.scenario, l)))) continue;
    const cells = [row.label, row.unit, row.better, ...libs.map((l) => cell(results, row, l))];
    if (showRatios) {
      cells.push(
        ...others.map((l) => {
          const r = ratio(results, row, l);
          return r === undefined ? '–' : `${fmt(r, 2)}x`;
        }),
      );
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function renderTargets(results: Results): string {
  const lines = ['| target | measured | verdict |', '|---|---:|---|'];
  for (const t of TARGETS) {
    let measured: number | undefined;
    let shown = '–';
    if (t.versus) {
      measured = ratio(results, t, t.versus);
      if (measured !== undefined) shown = `${fmt(measured, 2)}x`;
    } else {
      measured = summaryOf(results, t.scenario, 'hopper', t.pick)?.median;
      if (measured !== undefined) shown = `${fmt(measured, 2)} ms`;
    }
    let verdict = 'not measured';
    if (measured !== undefined) {
      const met =
        (t.atLeast === undefined || measured >= t.atLeast) &&
        (t.atMost === undefined || measured <= t.atMost);
      verdict = met ? 'met' : 'missed';
    }
    lines.push(`| ${t.text} | ${shown} | ${verdict} |`);
  }
  return lines.join('\n');
}

/** One line per (scenario, library) whose runs did not all succeed, with the first error. */
export function renderFailures(results: Results): string[] {
  const notes: string[] = [];
  for (const [key, outcomes] of results) {
    const failed = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    if (failed.length === 0) continue;
    const [scenario, lib] = key.split('|') as [string, LibName];
    notes.push(
      `${LIB_LABELS[lib]} ${scenario}: ${failed.length}/${outcomes.length} runs failed: ${failed[0]!.error}`,
    );
  }
  return notes;
}

/** How busy the rest of the machine was during the timed windows, from every successful run. */
export function renderNoise(results: Results): string | undefined {
  const values: number[] = [];
  for (const outcomes of results.values()) {
    for (const o of outcomes)
      if (o.ok && typeof o.value.otherCpus === 'number') values.push(o.value.otherCpus);
  }
  const s = summarize(values);
  if (!s) return undefined;
  return `Other processes' CPU during the timed windows (machine user+system − the child − redis-server): median ${fmt(s.median, 2)}, max ${fmt(s.max, 2)} CPUs over ${s.n} runs.`;
}
