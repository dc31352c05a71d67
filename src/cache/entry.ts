import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { ValidationError } from '../util/errors.js';
import type { Policy } from './options.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** One cached value as both tiers hold it: its JSON and when it stops being fresh and servable. */
export interface Entry {
  json: string;
  /** Local clock ms: fresh before this. */
  freshUntil: number;
  /** Local clock ms: gone after this (freshUntil + the stale window: grace or stale-while-revalidate). */
  keepUntil: number;
}

/** JSON of `value`, or a ValidationError naming `value`: nothing is written for a value JSON cannot carry. */
export function serialise(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new ValidationError('value', `cannot be serialised to JSON: ${(err as Error).message}`);
  }
  if (json === undefined)
    throw new ValidationError('value', `a ${typeof value} cannot be serialised to JSON`);
  return json;
}

/** How long an entry may be served after expiry: the longer of grace and stale-while-revalidate. */
export function staleWindow(policy: Policy): number {
  return Math.max(policy.grace, policy.swr);
}

export function makeEntry(json: string, policy: Policy, now: number): Entry {
  const freshUntil = now + policy.ttl;
  return { json, freshUntil, keepUntil: freshUntil + staleWindow(policy) };
}

/**
 * The Redis form: `<staleWindowMs>|<flag>|<payload>`, flag `j` for JSON, `z` for gzip'd JSON.
 * The window leads so get-or-lock.lua can tell fresh from stale by Redis's own clock (PTTL).
 */
export async function encode(json: string, window: number, compressAbove: number): Promise<string | Buffer> {
  if (json.length > compressAbove / 3 && Buffer.byteLength(json) > compressAbove) {
    const packed = await gzipAsync(json);
    return Buffer.concat([Buffer.from(`${window}|z|`), packed]);
  }
  return `${window}|j|${json}`;
}

const PIPE = 0x7c;

/** The entry for a Redis value with `pttl` ms of life left; undefined for a value this code did not write. */
export async function decode(raw: Buffer, pttl: number, now: number): Promise<Entry | undefined> {
  const bar = raw.indexOf(PIPE);
  if (bar <= 0 || raw[bar + 2] !== PIPE || pttl < 0) return undefined;
  const window = Number(raw.toString('latin1', 0, bar));
  if (!Number.isInteger(window)) return undefined;
  const flag = raw[bar + 1];
  const payload = raw.subarray(bar + 3);
  let json: string;
  if (flag === 0x6a /* j */) json = payload.toString('utf8');
  else if (flag === 0x7a /* z */) json = (await gunzipAsync(payload)).toString('utf8');
  else return undefined;
  return { json, freshUntil: now + pttl - window, keepUntil: now + pttl };
}
