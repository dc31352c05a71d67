import type { QueueKeys } from '../keys.js';
import { scriptKeys } from '../script-keys.js';

/**
 * Redis keys of a queue's repeatable jobs. They share the queue's hash tag, so the
 * scripts that fire schedules can create jobs in the same call.
 */
export interface ScheduleKeys {
  /** HASH schedule id -> spec JSON (repeat, template, startAt, endAt, limit, catchUp). */
  specs: string;
  /** ZSET schedule id -> next tick (ms, Redis clock). */
  next: string;
  /** HASH schedule id -> `version:made:lastTick`, the compare-and-set token of fire and put. */
  runs: string;
  /** HASH schedule id -> claim expiry (ms): a scheduler is firing it, others skip it until then. */
  claims: string;
  /** STRING counter: versions, unique across the queue's life so an old reader never matches. */
  version: string;
}

export function scheduleKeys(k: QueueKeys): ScheduleKeys {
  const s = (name: string) => `${k.tag}:${name}`;
  return {
    specs: s('sched'),
    next: s('sched:next'),
    runs: s('sched:runs'),
    claims: s('sched:claims'),
    version: s('sched:ver'),
  };
}

/**
 * KEYS of the schedule scripts, in the order their header comments list them.
 * `fire` also writes jobs, so it takes all of the queue's keys first (as every queue
 * script does: includes/keys.lua names them), then its own.
 */
export const scheduleScriptKeys = {
  due: (s: ScheduleKeys) => [s.next, s.runs, s.claims],
  put: (s: ScheduleKeys) => [s.specs, s.runs, s.next, s.version, s.claims],
  fire: (s: ScheduleKeys, k: QueueKeys) => scriptKeys(k, s.next, s.runs, s.specs, s.claims),
};
