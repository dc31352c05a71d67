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
  /**
   * Which write made this value (`<instance id>.<n>`), sent with that write's invalidation so
   * an instance that has already read the value keeps it when the message comes after.
   */
  version: string;
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

export function makeEntry(json: string, policy: Policy, now: number, version: string): Entry {
  const freshUntil = now + policy.ttl;
  return { json, freshUntil, keepUntil: freshUntil + staleWindow(policy), version };
}

/**
 * The Redis form: `<staleWindowMs>|<flag>|<version>|<payload>`, flag `J` for JSON, `Z` for
 * gzip'd JSON. The window leads so read.lua can tell fresh from stale by Redis's own clock
 * (PTTL). Values written before versions (`<staleWindowMs>|<flag>|<payload>`, flags `j`
 * and `z`) still read, as version ''.
 */
export async function encode(
  json: string,
  window: number,
  compressAbove: number,
  version: string,
): Promise<string | Buffer> {
  if (json.length > compressAbove / 3 && Buffer.byteLength(json) > compressAbove) {
    const packed = await gzipAsync(json);
    return Buffer.concat([Buffer.from(`${window}|Z|${version}|`), packed]);
  }
  return `${window}|J|${version}|${json}`;
}

const PIPE = 0x7c;

/** The entry for a Redis value with `pttl` ms of life left; undefined for a value this code did not write. */
export async function decode(raw: Buffer, pttl: number, now: number): Promise<Entry | undefined> {
  const bar = raw.indexOf(PIPE);
  if (bar <= 0 || raw[bar + 2] !== PIPE || pttl < 0) return undefined;
  const window = Number(raw.toString('latin1', 0, bar));
  if (!Number.isInteger(window)) return undefined;
  let flag = raw[bar + 1];
  let version = '';
  let payload = raw.subarray(bar + 3);
  if (flag === 0x4a /* J */ || flag === 0x5a /* Z */) {
    const end = raw.indexOf(PIPE, bar + 3);
    if (end < 0) return undefined;
    version = raw.toString('latin1', bar + 3, end);
    payload = raw.subarray(end + 1);
    flag += 0x20; // to lower case: the same encodings as j and z
  }
  let json: string;
  if (flag === 0x6a /* j */) json = payload.toString('utf8');
  else if (flag === 0x7a /* z */) json = (await gunzipAsync(payload)).toString('utf8');
  else return undefined;
  return { json, freshUntil: now + pttl - window, keepUntil: now + pttl, version };
}
