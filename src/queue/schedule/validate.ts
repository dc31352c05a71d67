import { Cron } from 'croner';
import { ValidationError } from '../../util/errors.js';
import type { JobOptions } from '../types.js';
import { serializeData, validateJobOptions, validateName } from '../validate.js';
import type { CatchUp, Repeat, ScheduleSpec } from './types.js';

/** The shortest `every`: below it a schedule is a busy loop, not a schedule. */
export const MIN_EVERY_MS = 100;
const CATCH_UP: CatchUp[] = ['one', 'skip'];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(field: string, obj: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(obj))
    if (!allowed.includes(key))
      throw new ValidationError(`${field}.${key}`, `unknown option (allowed: ${allowed.join(', ')})`);
}

export function validateScheduleId(id: unknown): string {
  validateName('id', id);
  // Job ids are derived from it, and scripts join ids with a control character.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\x00-\x1f]/.test(id as string))
    throw new ValidationError('id', 'must not contain control characters');
  return id as string;
}

function validateRepeat(repeat: unknown): Repeat {
  if (!isObject(repeat)) throw new ValidationError('repeat', 'must be { every } or { cron, tz }');
  if ('every' in repeat) {
    onlyKeys('repeat', repeat, ['every']);
    const every = repeat.every;
    if (typeof every !== 'number' || !Number.isInteger(every))
      throw new ValidationError('repeat.every', `must be an integer number of ms, got ${String(every)}`);
    if (every < MIN_EVERY_MS || every > 366 * 86_400_000)
      throw new ValidationError('repeat.every', `must be from ${MIN_EVERY_MS} ms to a year, got ${every}`);
    return { every };
  }
  if (!('cron' in repeat)) throw new ValidationError('repeat', 'must have `every` or `cron`');
  onlyKeys('repeat', repeat, ['cron', 'tz']);
  const { cron, tz } = repeat;
  if (typeof cron !== 'string' || cron.trim() === '')
    throw new ValidationError('repeat.cron', 'must be a non-empty cron expression');
  if (tz !== undefined) {
    if (typeof tz !== 'string' || tz === '')
      throw new ValidationError('repeat.tz', 'must be an IANA time zone');
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      throw new ValidationError('repeat.tz', `unknown time zone ${JSON.stringify(tz)}`);
    }
  }
  let next: Date | null;
  try {
    next = new Cron(cron, { timezone: tz ?? 'UTC', paused: true }).nextRun();
  } catch (err) {
    throw new ValidationError('repeat.cron', `invalid cron expression: ${(err as Error).message}`);
  }
  if (next === null) throw new ValidationError('repeat.cron', `${JSON.stringify(cron)} never fires`);
  return tz === undefined ? { cron } : { cron, tz };
}

function time(field: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const ms = v instanceof Date ? v.getTime() : v;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0)
    throw new ValidationError(field, 'must be a Date or a whole number of ms since the epoch');
  return ms;
}

/**
 * Checks everything schedule() takes before anything is written; each problem
 * throws a ValidationError naming the field. The template's options are merged
 * with the queue's defaults, as add() does.
 */
export function validateSchedule(
  repeat: unknown,
  template: unknown,
  options: unknown,
  defaults: JobOptions,
  maxPayloadBytes: number,
  now: number,
): ScheduleSpec {
  const r = validateRepeat(repeat);
  if (!isObject(template)) throw new ValidationError('template', 'must be { name, data, opts }');
  onlyKeys('template', template, ['name', 'data', 'opts']);
  const name = validateName('template.name', template.name);
  const opts = validateJobOptions('template.opts', template.opts);
  for (const key of ['jobId', 'dedup'] as const)
    if (opts[key] !== undefined)
      throw new ValidationError(`template.opts.${key}`, 'is not allowed: each tick makes exactly one job');
  const data = JSON.parse(serializeData('template.data', template.data, maxPayloadBytes)) as unknown;

  const o = options ?? {};
  if (!isObject(o)) throw new ValidationError('options', 'must be { startAt, endAt, limit, catchUp }');
  onlyKeys('options', o, ['startAt', 'endAt', 'limit', 'catchUp']);
  const startAt = time('options.startAt', o.startAt);
  const endAt = time('options.endAt', o.endAt);
  if (endAt !== undefined && endAt <= now) throw new ValidationError('options.endAt', 'is in the past');
  if (endAt !== undefined && startAt !== undefined && endAt <= startAt)
    throw new ValidationError('options.endAt', 'must be after options.startAt');
  const limit = o.limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1))
    throw new ValidationError('options.limit', `must be an integer of at least 1, got ${String(limit)}`);
  const catchUp = o.catchUp ?? 'one';
  if (!CATCH_UP.includes(catchUp as CatchUp))
    throw new ValidationError('options.catchUp', `must be one of ${CATCH_UP.join(', ')}`);

  const spec: ScheduleSpec = {
    repeat: r,
    name,
    opts: { ...defaults, ...opts },
    data,
    catchUp: catchUp as CatchUp,
  };
  if (startAt !== undefined) spec.startAt = startAt;
  if (endAt !== undefined) spec.endAt = endAt;
  if (limit !== undefined) spec.limit = limit as number;
  return spec;
}
