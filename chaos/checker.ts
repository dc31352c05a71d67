import type { Line } from './log.js';
import type { StoredJob } from './targets/types.js';

/** One worker process's log, and whether it was still running at the end (not killed by the nemesis). */
export interface WorkerLog {
  name: string;
  lines: Line[];
  aliveAtEnd: boolean;
}

export interface CheckInput {
  producers: Line[][];
  workers: WorkerLog[];
  /** Every job in Redis after the drain. */
  stored: StoredJob[];
  /** When Redis last came back from a restart, if it was restarted. */
  lastRedisUpAt?: number;
}

export interface Figures {
  attempted: number;
  /** Adds that resolved with a job id. */
  acknowledged: number;
  /** Adds that rejected or whose producer died first; they may exist or not. */
  unacknowledged: number;
  /** Acknowledged markers whose job completed. */
  completed: number;
  /** Acknowledged markers with no completion and no job left in Redis. */
  lost: number;
  /** Jobs still waiting, delayed or active after the drain. */
  stuck: number;
  /** Acknowledged markers whose job ended failed (handlers never throw, so: stalls or an error of the queue). */
  failed: number;
  /** Markers stored as more than one job. */
  duplicateAdds: number;
  /** Jobs the queue reported completed more than once. */
  duplicateCompletions: number;
  /** Jobs whose handler started again after the queue had reported them completed. */
  startsAfterCompletion: number;
  /** Jobs whose handler ran more than once (at-least-once allows it after a crash or a lapsed lease). */
  reruns: number;
  /** Outcomes the queue refused because the lease had lapsed (Hopper's `lost` event). */
  refusedOutcomes: number;
  /** Live workers that processed nothing after the last Redis restart although jobs were added after it. */
  stoppedWorkers: number;
  /** A few markers, ids or worker names per anomaly, for a human to look up. */
  examples: Record<string, string[]>;
}

const PENDING = new Set(['waiting', 'delayed', 'active']);
const EXAMPLES = 5;

function note(examples: Record<string, string[]>, key: string, value: string): void {
  const list = examples[key] ?? [];
  examples[key] = list;
  if (list.length < EXAMPLES) list.push(value);
}

export function check(input: CheckInput): Figures {
  const examples: Record<string, string[]> = {};
  const attempted = new Set<string>();
  const acked = new Set<string>();
  /** marker -> every job id seen carrying it (ack, worker logs, Redis). */
  const idsOf = new Map<string, Set<string>>();
  const see = (marker: string, id: string) => {
    if (!marker || !id) return;
    const ids = idsOf.get(marker) ?? new Set<string>();
    idsOf.set(marker, ids);
    ids.add(id);
  };

  for (const log of input.producers) {
    for (const l of log) {
      if (l.kind === 'A') attempted.add(l.a);
      if (l.kind === 'K') {
        acked.add(l.a);
        see(l.a, l.b);
      }
    }
  }

  const completions = new Map<string, number>();
  const firstCompletion = new Map<string, number>();
  const starts = new Map<string, number[]>();
  let refusedOutcomes = 0;
  for (const w of input.workers) {
    for (const l of w.lines) {
      if (l.kind === 'R') continue;
      see(l.b, l.a);
      if (l.kind === 'C') {
        completions.set(l.a, (completions.get(l.a) ?? 0) + 1);
        const first = firstCompletion.get(l.a);
        if (first === undefined || l.ts < first) firstCompletion.set(l.a, l.ts);
      } else if (l.kind === 'S') {
        const list = starts.get(l.a) ?? [];
        list.push(l.ts);
        starts.set(l.a, list);
      } else if (l.kind === 'L') refusedOutcomes++;
    }
  }

  const stateOf = new Map<string, string>();
  let stuck = 0;
  for (const j of input.stored) {
    see(j.marker, j.id);
    stateOf.set(j.id, j.state);
    if (PENDING.has(j.state)) {
      stuck++;
      note(examples, 'stuck', `${j.id} (${j.state})`);
    }
  }

  let completed = 0;
  let lost = 0;
  let failed = 0;
  for (const marker of acked) {
    const ids = [...(idsOf.get(marker) ?? [])];
    if (ids.some((id) => completions.has(id) || stateOf.get(id) === 'completed')) completed++;
    else if (ids.some((id) => stateOf.get(id) === 'failed')) failed++;
    else if (!ids.some((id) => PENDING.has(stateOf.get(id) ?? ''))) {
      lost++;
      note(examples, 'lost', `${marker} (${ids.join(',')})`);
    }
  }

  let duplicateAdds = 0;
  for (const [marker, ids] of idsOf) {
    if (ids.size > 1) {
      duplicateAdds++;
      note(examples, 'duplicateAdds', `${marker} -> ${[...ids].join(',')}`);
    }
  }

  let duplicateCompletions = 0;
  for (const [id, n] of completions) {
    if (n > 1) {
      duplicateCompletions++;
      note(examples, 'duplicateCompletions', `${id} x${n}`);
    }
  }

  let startsAfterCompletion = 0;
  let reruns = 0;
  for (const [id, times] of starts) {
    if (times.length > 1) reruns++;
    const done = firstCompletion.get(id);
    if (done !== undefined && times.some((t) => t > done)) {
      startsAfterCompletion++;
      note(examples, 'startsAfterCompletion', id);
    }
  }

  let stoppedWorkers = 0;
  const up = input.lastRedisUpAt;
  if (up !== undefined) {
    const addedAfter = input.producers.some((log) => log.some((l) => l.kind === 'K' && l.ts >= up));
    for (const w of input.workers) {
      const ready = w.lines.find((l) => l.kind === 'R');
      if (!w.aliveAtEnd || !ready || ready.ts >= up) continue;
      if (addedAfter && !w.lines.some((l) => l.kind === 'S' && l.ts >= up)) {
        stoppedWorkers++;
        note(examples, 'stoppedWorkers', w.name);
      }
    }
  }

  return {
    attempted: attempted.size,
    acknowledged: acked.size,
    unacknowledged: attempted.size - acked.size,
    completed,
    lost,
    stuck,
    failed,
    duplicateAdds,
    duplicateCompletions,
    startsAfterCompletion,
    reruns,
    refusedOutcomes,
    stoppedWorkers,
    examples,
  };
}
