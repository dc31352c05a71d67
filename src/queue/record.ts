import type { JobError, JobOptions } from './types.js';

/** The job record as stored in the `jobs` hash. Short field names: it is kept per job. */
export interface StoredJob {
  n: string;
  t: number;
  o: JobOptions;
  d: unknown;
}

/** Builds the record around already-serialised options and data, without re-encoding them. */
export function encodeRecord(name: string, timestamp: number, optsJson: string, dataJson: string): string {
  return `{"n":${JSON.stringify(name)},"t":${timestamp},"o":${optsJson},"d":${dataJson}}`;
}

export function decodeRecord(record: string): StoredJob {
  return JSON.parse(record) as StoredJob;
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
