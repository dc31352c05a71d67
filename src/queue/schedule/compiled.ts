import { encodeRecord } from '../record.js';
import { type Grid, gridOf } from './grid.js';
import type { ScheduleSpec } from './types.js';

/** A stored spec made ready to fire: parsed once per version, its cron parsed once. */
export interface CompiledSchedule {
  version: string;
  spec: ScheduleSpec;
  grid: Grid;
  optsJson: string;
  dataJson: string;
}

export function compileSchedule(specJson: string, version: string): CompiledSchedule {
  const spec = JSON.parse(specJson) as ScheduleSpec;
  return {
    version,
    spec,
    grid: gridOf(spec.repeat, spec.startAt),
    optsJson: JSON.stringify(spec.opts),
    dataJson: JSON.stringify(spec.data),
  };
}

/** The job record of one tick, as add() would store the template. */
export const tickRecord = (c: CompiledSchedule) =>
  encodeRecord(c.spec.name, Date.now(), c.optsJson, c.dataJson);

/** One job per schedule and tick: the id says which, and a second write of it is refused. */
export const tickJobId = (scheduleId: string, tick: number) => `sched:${scheduleId}:${tick}`;
