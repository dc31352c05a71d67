import type { JobError, JobOptions } from './types.js';

/** Joins job fields in one script argument or reply: JSON never holds a raw byte 30. */
export const SEP = '\x1e';

/** A job record decoded. */
export interface StoredJob {
  name: string;
  timestamp: number;
  opts: JobOptions;
  data: unknown;
}

/**
 * The record kept per job in the `jobs` hash: four lines, the JSON-encoded name,
 * the add time, the options JSON and the data JSON. JSON never contains a raw
 * newline, so the lines split unambiguously without parsing the data. Jobs of a
 * queue usually share their options, so decoded options are cached by their text
 * and a worker parses them once, not once per job.
 */
export function encodeRecord(name: string, timestamp: number, optsJson: string, dataJson: string): string {
  return `${JSON.stringify(name)}\n${timestamp}\n${optsJson}\n${dataJson}`;
}

const optsCache = new Map<string, JobOptions>();
const OPTS_CACHE_MAX = 1000;

function decodeOpts(json: string): JobOptions {
  let opts = optsCache.get(json);
  if (opts === undefined) {
    opts = Object.freeze(JSON.parse(json) as JobOptions);
    if (optsCache.size >= OPTS_CACHE_MAX) optsCache.clear();
    optsCache.set(json, opts);
  }
  return opts;
}

export function decodeRecord(record: string): StoredJob {
  const a = record.indexOf('\n');
  const b = record.indexOf('\n', a + 1);
  const c = record.indexOf('\n', b + 1);
  return {
    name: JSON.parse(record.slice(0, a)) as string,
    timestamp: Number(record.slice(a + 1, b)),
    opts: decodeOpts(record.slice(b + 1, c)),
    data: JSON.parse(record.slice(c + 1)),
  };
}

/** `{"p":processedOn,"f":finishedOn,"r":result}` as settle.lua writes it. */
export interface StoredResult {
  p: number;
  f: number;
  r: unknown;
}

/** `{"p":processedOn,"f":finishedOn,"a":attempt,"e":error}` as settle.lua and heartbeat.lua write it. */
export interface StoredError {
  p: number;
  f: number;
  a: number;
  e: JobError;
}

/** An error as stored: plain fields, so it survives JSON. */
export function serializeError(err: Error): string {
  return JSON.stringify({ name: err.name, message: err.message, stack: err.stack });
}
