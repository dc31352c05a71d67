import type { Queue } from '../queue/queue.js';
import type { JobOptions } from '../queue/types.js';
import { HopperError, ValidationError } from '../util/errors.js';

/** Jobs one bulk action may name. */
export const MAX_SELECTION = 1000;

export interface ActionBody {
  ids?: unknown;
  group?: unknown;
  state?: unknown;
  age?: unknown;
  name?: unknown;
  data?: unknown;
  opts?: unknown;
}

export interface ActionResult {
  /** Jobs (or groups) changed. */
  done: number;
  /** Per id that could not be acted on, why. */
  failed?: { id: string; error: string }[];
  /** For `add`: the new job's id. */
  id?: string;
}

function ids(body: ActionBody): string[] {
  const list = body.ids;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SELECTION)
    throw new ValidationError('ids', `must be a list of 1 to ${MAX_SELECTION} job ids`);
  for (const id of list)
    if (typeof id !== 'string' || id.length === 0 || id.length > 256)
      throw new ValidationError('ids', 'each id must be a string of 1 to 256 characters');
  return list as string[];
}

function group(body: ActionBody): string {
  if (typeof body.group !== 'string' || body.group.length === 0 || body.group.length > 128)
    throw new ValidationError('group', 'must be a group name of 1 to 128 characters');
  return body.group;
}

/** Applies `one` to each id; ids that fail (wrong state, gone) are reported, the rest done. */
async function each(list: string[], one: (id: string) => Promise<unknown>): Promise<ActionResult> {
  const failed: { id: string; error: string }[] = [];
  let done = 0;
  for (const id of list) {
    try {
      const r = await one(id);
      if (r === false) failed.push({ id, error: 'no such job' });
      else done++;
    } catch (err) {
      if (!(err instanceof HopperError)) throw err;
      failed.push({ id, error: err.message });
    }
  }
  return failed.length > 0 ? { done, failed } : { done };
}

export const ACTIONS = [
  'retry',
  'retry-all',
  'remove',
  'promote',
  'promote-all',
  'drain',
  'pause',
  'resume',
  'pause-group',
  'resume-group',
  'clean',
  'add',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Runs one console action on a queue; bad input throws a ValidationError naming the field, before any change. */
export async function runAction(q: Queue, action: string, body: ActionBody): Promise<ActionResult> {
  switch (action as Action) {
    case 'retry':
      return each(ids(body), (id) => q.retry(id));
    case 'retry-all':
      return { done: await q.retryAll() };
    case 'remove':
      return each(ids(body), (id) => q.remove(id));
    case 'promote':
      return each(ids(body), (id) => q.promote(id));
    case 'promote-all':
      return { done: await q.promoteAll() };
    case 'drain':
      return { done: await q.drain() };
    case 'pause':
      await q.pause();
      return { done: 1 };
    case 'resume':
      await q.resume();
      return { done: 1 };
    case 'pause-group':
      await q.pauseGroup(group(body));
      return { done: 1 };
    case 'resume-group':
      await q.resumeGroup(group(body));
      return { done: 1 };
    case 'clean': {
      const state = body.state;
      if (state !== 'completed' && state !== 'failed')
        throw new ValidationError('state', "must be 'completed' or 'failed'");
      return { done: (await q.clean(state, body.age as number, 100_000)).length };
    }
    case 'add': {
      if (typeof body.name !== 'string') throw new ValidationError('name', 'must be a string');
      const id = await q.add(body.name, body.data ?? null, body.opts as JobOptions | undefined);
      return { done: 1, id };
    }
    default:
      throw new ValidationError('action', `must be one of ${ACTIONS.join(', ')}`);
  }
}
