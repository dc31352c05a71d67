import type { JobInfo } from '../../queue/types.js';

/** Characters of pretty-printed data in a job's detail; the rest comes on demand. */
export const DETAIL_CHARS = 20_000;
/** Characters of compact data in a job list row. */
export const ROW_CHARS = 160;

export interface Shown {
  /** Pretty-printed JSON, cut to the limit. */
  text: string;
  /** Length of the whole compact JSON, characters. */
  size: number;
  truncated: boolean;
}

/** Pretty JSON cut to `limit` characters (a cut value is never parsed by the page). */
export function show(value: unknown, limit: number, pretty = true): Shown {
  const compact = JSON.stringify(value) ?? 'undefined';
  const text = pretty && compact.length <= 4 * limit ? JSON.stringify(value, null, 2) : compact;
  return { text: text.slice(0, limit), size: compact.length, truncated: text.length > limit };
}

/** `sched:<schedule>:<tick>`: the id a schedule gives each job it makes. */
export function scheduleOf(id: string): { id: string; tick: number } | null {
  const m = /^sched:(.+):(\d+)$/.exec(id);
  return m ? { id: m[1]!, tick: Number(m[2]) } : null;
}

export interface JobRow {
  id: string;
  name: string;
  state: string;
  timestamp: number;
  attemptsMade: number;
  processedOn?: number;
  finishedOn?: number;
  delayUntil?: number;
  error?: string;
  group?: string;
  /** Compact data, cut; absent for a caller that may not see data. */
  data?: string;
}

export function row(job: JobInfo, withData: boolean): JobRow {
  const r: JobRow = {
    id: job.id,
    name: job.name,
    state: job.state,
    timestamp: job.timestamp,
    attemptsMade: job.attemptsMade,
    processedOn: job.processedOn,
    finishedOn: job.finishedOn,
    delayUntil: job.delayUntil,
    error: job.error ? `${job.error.name}: ${job.error.message}`.slice(0, 300) : undefined,
    group: job.opts.group,
  };
  if (withData) r.data = show(job.data, ROW_CHARS, false).text;
  return r;
}

/** A job's detail: data and result cut and pretty-printed; stack, logs and data only for admins. */
export function detail(job: JobInfo, admin: boolean) {
  return {
    ...row(job, false),
    opts: job.opts,
    stalls: job.stalls,
    progress: job.progress === undefined ? undefined : show(job.progress, 2000),
    schedule: scheduleOf(job.id),
    data: admin ? show(job.data, DETAIL_CHARS) : undefined,
    returnValue: admin && job.returnValue !== undefined ? show(job.returnValue, DETAIL_CHARS) : undefined,
    errorDetail: job.error
      ? { name: job.error.name, message: job.error.message, stack: admin ? job.error.stack : undefined }
      : undefined,
    // Every failed attempt kept (the last 10), oldest first; stacks for admins only.
    attempts: (job.errors ?? []).map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt,
      failedAt: a.failedAt,
      name: a.error.name,
      message: a.error.message,
      stack: admin ? a.error.stack : undefined,
    })),
    logs: admin ? job.logs.slice(-100) : undefined,
    hidden: !admin,
  };
}
