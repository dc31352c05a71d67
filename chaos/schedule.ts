import { between, pick, prng } from './prng.js';
import type { Settings } from './settings.js';

export type FaultKind = 'kill-worker' | 'kill-producer' | 'stop-worker' | 'restart-redis' | 'client-kill';
export type Fsync = 'everysec' | 'always';

export const FAULT_KINDS: FaultKind[] = [
  'kill-worker',
  'kill-producer',
  'stop-worker',
  'restart-redis',
  'client-kill',
];

/** How often each kind is drawn after the first round (which has each kind once). */
const WEIGHTS: Record<FaultKind, number> = {
  'kill-worker': 3,
  'kill-producer': 2,
  'stop-worker': 2,
  'restart-redis': 1.5,
  'client-kill': 3,
};

export interface Fault {
  /** ms after the start of the chaos phase. */
  at: number;
  kind: FaultKind;
  /** The worker or producer slot (kill, stop). */
  slot: number;
  /** kill: delay before the replacement starts; stop: how long it stays stopped; restart-redis: downtime; client-kill: gap between kills. */
  ms: number;
  /** client-kill: how many kills in the burst. */
  times?: number;
  /** restart-redis: the appendfsync policy the restarted server runs with. */
  fsync?: Fsync;
}

function draw(rand: () => number): FaultKind {
  const total = FAULT_KINDS.reduce((s, k) => s + WEIGHTS[k], 0);
  let r = rand() * total;
  for (const k of FAULT_KINDS) {
    r -= WEIGHTS[k];
    if (r < 0) return k;
  }
  return 'client-kill';
}

function fault(rand: () => number, at: number, kind: FaultKind, s: Settings): Fault {
  switch (kind) {
    case 'kill-worker':
      return { at, kind, slot: pick(rand, s.workers), ms: Math.round(between(rand, 300, 3000)) };
    case 'kill-producer':
      return { at, kind, slot: pick(rand, s.producers), ms: Math.round(between(rand, 300, 2000)) };
    case 'stop-worker':
      // Past the lease: the others take its jobs back while it is frozen.
      return { at, kind, slot: pick(rand, s.workers), ms: Math.round(s.leaseMs * between(rand, 1.5, 3)) };
    case 'restart-redis':
      return {
        at,
        kind,
        slot: 0,
        ms: Math.round(between(rand, 200, 3000)),
        fsync: rand() < 0.5 ? 'everysec' : 'always',
      };
    case 'client-kill':
      // A burst: each kill drops whatever is in flight at that instant, so a few raise the odds of catching a command mid-reply.
      return { at, kind, slot: 0, ms: Math.round(between(rand, 100, 300)), times: 2 + pick(rand, 5) };
  }
}

/**
 * The fault schedule of a seed: the same seed and settings always give the same
 * list, which drives every target. The first five faults are one of each kind
 * in a random order, so even the short form has them all.
 */
export function makeSchedule(seed: number, s: Settings): Fault[] {
  const rand = prng(seed);
  const first = [...FAULT_KINDS];
  for (let i = first.length - 1; i > 0; i--) {
    const j = pick(rand, i + 1);
    [first[i], first[j]] = [first[j]!, first[i]!];
  }
  const out: Fault[] = [];
  // The last second stays calm so the last fault's effects start inside the chaos phase.
  for (let at = between(rand, ...s.faultGapMs); at < s.chaosMs - 1000; at += between(rand, ...s.faultGapMs)) {
    const kind = first.shift() ?? draw(rand);
    out.push(fault(rand, Math.round(at), kind, s));
  }
  return out;
}
