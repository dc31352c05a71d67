import { appendFileSync, readFileSync } from 'node:fs';

/**
 * The append-only logs the checker reads. One line per event, written with
 * appendFileSync (no fsync: the processes die, the machine does not), so a
 * line is in the file before the next step of the process happens.
 *
 * Producers: `A <ts> <marker>` before an add, `K <ts> <marker> <jobId>` after it
 *   resolved (acknowledged), `E <ts> <marker>` when it rejected.
 * Workers:   `R <ts> <pid>` when ready, `S <ts> <jobId> <marker>` handler start,
 *   `D ...` handler done, `C ...` the queue's `completed` event, `F ...` `failed`,
 *   `L ...` `lost` (Hopper: the lease had lapsed, the outcome was refused).
 */
export type Kind = 'A' | 'K' | 'E' | 'R' | 'S' | 'D' | 'C' | 'F' | 'L';

export interface Line {
  kind: Kind;
  ts: number;
  /** Producer lines: the marker; worker job lines: the job id; R: the pid. */
  a: string;
  /** K: the job id; worker job lines: the marker. */
  b: string;
}

export function append(file: string, kind: Kind, a: string, b = ''): void {
  appendFileSync(file, `${kind} ${Date.now()} ${a}${b ? ` ${b}` : ''}\n`);
}

/** Parses a log; only lines ended by a newline count. */
export function readLog(file: string): Line[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Line[] = [];
  // The text after the last newline is not a whole line.
  for (const raw of text.split('\n').slice(0, -1)) {
    const [kind, ts, a, b] = raw.split(' ');
    if (!kind || !ts || !a || !'AKERSDCFL'.includes(kind) || kind.length !== 1) continue;
    out.push({ kind: kind as Kind, ts: Number(ts), a, b: b ?? '' });
  }
  return out;
}
