import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { JobStateError, ValidationError } from '../util/errors.js';
import type { QueueKeys } from './keys.js';
import { scriptKeys } from './script-keys.js';
import { MAX_PRIORITY } from './types.js';
import { MAX_DELAY_MS, serializeData } from './validate.js';

/** Changes to one job after it was added (Queue's updateData, changePriority, changeDelay, getJobLogs). */

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw new ValidationError('id', 'must be a non-empty string');
  return id;
}

function checkInteger(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new ValidationError(field, `must be an integer from ${min} to ${max}, got ${String(v)}`);
  return v;
}

/** Runs a job script whose reply is 1 (done), 0 (no such job) or -1 (wrong state: `wrongState`). */
async function runJobScript(
  client: Redis,
  keys: QueueKeys,
  script: string,
  id: string,
  args: (string | number)[],
  wrongState: string,
): Promise<void> {
  const r = await callScript<number>(client, script, scriptKeys(keys), [id, ...args]);
  if (r === 0) throw new JobStateError(`job ${id} not found`);
  if (r === -1) throw new JobStateError(`job ${id} ${wrongState}`);
}

export async function updateData(
  client: Redis,
  keys: QueueKeys,
  id: string,
  data: unknown,
  maxBytes: number,
) {
  const json = serializeData('data', data, maxBytes);
  return runJobScript(client, keys, 'update-data', checkId(id), [json], '');
}

export async function changePriority(client: Redis, keys: QueueKeys, id: string, priority: number) {
  const p = checkInteger('priority', priority, 0, MAX_PRIORITY);
  return runJobScript(
    client,
    keys,
    'change-priority',
    checkId(id),
    [p],
    'is active or finished: only a waiting or delayed job changes priority',
  );
}

export async function changeDelay(client: Redis, keys: QueueKeys, id: string, delay: number) {
  const d = checkInteger('delay', delay, 0, MAX_DELAY_MS);
  return runJobScript(client, keys, 'change-delay', checkId(id), [d], 'is not delayed');
}

/** A page of a job's log, oldest line first: lines `start` to `end` inclusive (-1: to the last). */
export interface JobLogs {
  logs: string[];
  /** Lines kept in all (the last LOG_LINES). */
  count: number;
}

export async function getJobLogs(
  client: Redis,
  keys: QueueKeys,
  id: string,
  start = 0,
  end = -1,
  opts: { asc?: boolean } = {},
): Promise<JobLogs> {
  checkId(id);
  checkInteger('start', start, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('end', end, -1, Number.MAX_SAFE_INTEGER);
  const text = await client.hget(keys.logs, id);
  let lines = text ? text.split('\n') : [];
  if (opts.asc === false) lines = lines.reverse();
  return { logs: lines.slice(start, end === -1 ? undefined : end + 1), count: lines.length };
}
