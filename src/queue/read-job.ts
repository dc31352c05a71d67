import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import type { QueueKeys } from './keys.js';
import { decodeRecord, SEP, type StoredError, type StoredResult } from './record.js';
import { scriptKeys } from './script-keys.js';
import type { JobInfo, JobState } from './types.js';

/** Reads one job with get-job.lua and turns the stored fields into a JobInfo. */
export async function readJob<D, R>(client: Redis, k: QueueKeys, id: string): Promise<JobInfo<D, R> | null> {
  const keys = scriptKeys(k);
  const r = await callScript<string[] | null>(client, 'get-job', keys, [id]);
  if (!r) return null;
  const [record, state, atts, stalls, result, error, lease, due, progress, logs] = r as [
    string,
    JobState,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const stored = decodeRecord(record);
  const info: JobInfo<D, R> = {
    id,
    name: stored.name,
    data: stored.data as D,
    opts: stored.opts,
    state,
    attemptsMade: Number(atts),
    stalls: Number(stalls),
    timestamp: stored.timestamp,
    logs: logs ? logs.split('\n') : [],
  };
  if (progress) info.progress = JSON.parse(progress);
  if (lease) info.processedOn = Number(lease.slice(lease.lastIndexOf('|') + 1));
  if (due) info.delayUntil = Number(due);
  if (error) {
    // The newest failed attempt first, then the earlier ones (fail-record.lua).
    const stored = error.split(SEP).map((entry) => JSON.parse(entry) as StoredError);
    const e = stored[0]!;
    info.error = e.e;
    info.processedOn ??= e.p;
    info.finishedOn = e.f;
    info.errors = stored.reverse().map((a) => ({ attempt: a.a, startedAt: a.p, failedAt: a.f, error: a.e }));
  }
  if (result && state === 'completed') {
    const s = JSON.parse(result) as StoredResult;
    info.returnValue = s.r as R;
    info.processedOn = s.p;
    info.finishedOn = s.f;
  }
  return info;
}
