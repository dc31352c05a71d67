/**
 * The per-schedule value in the `runs` hash, `version:made:lastTick`: the token
 * every compare-and-set compares whole. The version changes on every update (from
 * a counter, never reused); made counts jobs since then; lastTick is the last tick
 * fired or skipped, kept across updates so a job id is never made twice.
 */
export interface RunState {
  version: string;
  made: number;
  last: number;
}

export function parseRun(value: string): RunState {
  const [version = '', made = '0', last = '0'] = value.split(':');
  return { version, made: Number(made), last: Number(last) };
}

export const formatRun = (r: RunState) => `${r.version}:${r.made}:${r.last}`;
