/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and splits the CPU time of a benchmark's timed
 * part by where it went: Hopper's own code, ioredis, JSON, the event loop and sockets, GC.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Slice {
  label: string;
  /** Share of the window's non-idle samples. */
  share: number;
}

export interface ProfileSummary {
  /** Non-idle CPU in the window, µs. */
  busyUs: number;
  categories: Slice[];
  /** The functions with the most self time. */
  top: (Slice & { where: string })[];
}

/** Categories, first match wins: [label, test on the frame's url and function name]. */
const CATEGORIES: [string, (url: string, fn: string) => boolean][] = [
  ['garbage collection', (_u, fn) => fn === '(garbage collector)'],
  ['Hopper: add batcher', (u) => u.includes('/src/queue/add-batcher')],
  ['Hopper: option and data checks', (u) => u.includes('/src/queue/validate')],
  ['Hopper: job record', (u) => u.includes('/src/queue/record') || u.includes('/src/queue/queue.ts')],
  ['Hopper: other', (u) => u.includes('/src/')],
  [
    'ioredis: command encoding and reply parsing',
    (u) => /node_modules\/(ioredis|redis-parser|denque|standard-as-callback|cluster-key-slot)\//.test(u),
  ],
  ['JSON', (_u, fn) => fn === 'stringify' || fn === 'parse'],
  ['sockets and streams (node:net)', (u) => /node:(net|internal\/stream|internal\/net|stream)/.test(u)],
  [
    'promises, timers, event loop',
    (u, fn) =>
      /node:internal\/(process\/task_queues|timers|async_hooks)/.test(u) ||
      fn === '(program)' ||
      fn === 'processTicksAndRejections',
  ],
  ['benchmark harness', (u) => u.includes('/bench/')],
  ['other', () => true],
];

function categoryOf(url: string, fn: string): string {
  for (const [label, test] of CATEGORIES) if (test(url, fn)) return label;
  return 'other';
}

/** A function the measured work runs through: the timed part is where it shows up. */
export interface Marker {
  url: string;
  functionName: string;
}

/**
 * Summarises the samples between the first and the last that have `marker` on their
 * stack (the timed part; startup and module loading fall outside).
 */
export function summarise(path: string, marker: Marker, topN = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const marked = new Map<number, boolean>();
  const hasMarker = (id: number): boolean => {
    const known = marked.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const p = parent.get(id);
    const { url, functionName } = node.callFrame;
    const value =
      (url.includes(marker.url) && functionName === marker.functionName) || (p !== undefined && hasMarker(p));
    marked.set(id, value);
    return value;
  };
  const { samples, timeDeltas } = profile;
  let first = -1;
  let last = -1;
  samples.forEach((id, i) => {
    if (hasMarker(id)) {
      if (first < 0) first = i;
      last = i;
    }
  });
  if (first < 0) throw new Error(`no sample has ${marker.functionName} (${marker.url}) on its stack`);
  const cat = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  for (let i = first; i <= last; i++) {
    const dt = timeDeltas[i + 1] ?? 0; // a sample's time is the gap to the next one
    const { functionName, url, lineNumber } = byId.get(samples[i]!)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += dt;
    const c = categoryOf(url, functionName);
    cat.set(c, (cat.get(c) ?? 0) + dt);
    const short = url.replace(/^.*\/(src|node_modules|bench)\//, '$1/');
    // tsx compiles src/ on the fly: its line numbers are not the source's, so none is shown.
    const line = url.startsWith('node:') || url.includes('node_modules') ? `:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}\u0000${short ? `${short}${line}` : '(native)'}`;
    fns.set(key, (fns.get(key) ?? 0) + dt);
  }
  const slices = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([label, us]) => ({ label, share: us / busy }));
  return {
    busyUs: busy,
    categories: slices(cat),
    top: slices(fns)
      .slice(0, topN)
      .map(({ label, share }) => {
        const [fn, where] = label.split('\u0000') as [string, string];
        return { label: fn, where, share };
      }),
  };
}
