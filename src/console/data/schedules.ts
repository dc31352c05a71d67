import type { Redis } from 'ioredis';
import type { QueueKeys } from '../../queue/keys.js';
import { scheduleKeys } from '../../queue/schedule/keys.js';
import { parseRun } from '../../queue/schedule/run-state.js';

/** Schedules listed per page, soonest tick first. */
const PAGE = 200;

export interface ScheduleRow {
  id: string;
  name: string;
  repeat: unknown;
  next: number;
  made: number;
  /** Id of the job its last tick made (may be gone by retention). */
  lastJob: string | null;
  endAt?: number;
  limit?: number;
}

/** The next PAGE schedules: one ZRANGE and two HMGETs, whatever the number of schedules. */
export async function readSchedules(
  client: Redis,
  k: QueueKeys,
): Promise<{ schedules: ScheduleRow[]; total: number }> {
  const s = scheduleKeys(k);
  const [flat, total] = await Promise.all([
    client.zrange(s.next, '0', String(PAGE - 1), 'WITHSCORES'),
    client.zcard(s.next),
  ]);
  const ids: string[] = [];
  for (let i = 0; i < flat.length; i += 2) ids.push(flat[i]!);
  if (ids.length === 0) return { schedules: [], total };
  const [specs, runs] = await Promise.all([client.hmget(s.specs, ...ids), client.hmget(s.runs, ...ids)]);
  const schedules: ScheduleRow[] = [];
  ids.forEach((id, i) => {
    const json = specs[i];
    if (!json) return;
    const spec = JSON.parse(json) as { name: string; repeat: unknown; endAt?: number; limit?: number };
    const run = parseRun(runs[i] ?? '');
    schedules.push({
      id,
      name: spec.name,
      repeat: spec.repeat,
      next: Number(flat[i * 2 + 1]),
      made: run.made,
      lastJob: run.last > 0 ? `sched:${id}:${run.last}` : null,
      endAt: spec.endAt,
      limit: spec.limit,
    });
  });
  return { schedules, total };
}
