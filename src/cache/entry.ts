import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { ValidationError } from '../util/errors.js';
import type { Policy } from './options.js';
import type { TagStamp } from './tags.js';

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
  /** The entry's tags and their generations when it was written (see tags.ts); none if untagged. */
  tags?: TagStamp[];
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

export function makeEntry(
  json: string,
  policy: Policy,
  now: number,
  version: string,
  tags?: TagStamp[],
): Entry {
  const freshUntil = now + policy.ttl;
  const e: Entry = { json, freshUntil, keepUntil: freshUntil + staleWindow(policy), version };
  if (tags && tags.length > 0) e.tags = tags;
  return e;
}

/**
 * The Redis form: `<staleWindowMs>|<flag>|<version>|<payload>`, flag `J` for JSON, `Z` for
 * gzip'd JSON. The window leads so read.lua can tell fresh from stale by Redis's own clock
 * (PTTL). Values written before versions (`<staleWindowMs>|<flag>|<payload>`, flags `j`
 * and `z`) still read, as version ''. A tagged entry has flag `T` (JSON) or `G` (gzip'd) and
 * its tag stamps before the payload: `<window>|T|<version>|<n>|<n bytes: JSON [[tag, gen], ...]><payload>`
 * (a version of Hopper before tags reads it as a value it did not write: a miss).
 */
export async function encode(
  json: string,
  window: number,
  compressAbove: number,
  version: string,
  tags?: TagStamp[],
): Promise<string | Buffer> {
  const tagged = tags && tags.length > 0;
  const stamps = tagged ? JSON.stringify(tags) : '';
  const head = (flag: string) =>
    tagged
      ? `${window}|${flag}|${version}|${Buffer.byteLength(stamps)}|${stamps}`
      : `${window}|${flag}|${version}|`;
  if (json.length > compressAbove / 3 && Buffer.byteLength(json) > compressAbove) {
    const packed = await gzipAsync(json);
    return Buffer.concat([Buffer.from(head(tagged ? 'G' : 'Z')), packed]);
  }
  return `${head(tagged ? 'T' : 'J')}${json}`;
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
  let tags: TagStamp[] | undefined;
  if (flag === 0x4a /* J */ || flag === 0x5a /* Z */ || flag === 0x54 /* T */ || flag === 0x47 /* G */) {
    const end = raw.indexOf(PIPE, bar + 3);
    if (end < 0) return undefined;
    version = raw.toString('latin1', bar + 3, end);
    payload = raw.subarray(end + 1);
    if (flag === 0x54 || flag === 0x47) {
      const n = raw.indexOf(PIPE, end + 1);
      const len = Number(raw.toString('latin1', end + 1, n));
      if (n < 0 || !Number.isInteger(len)) return undefined;
      tags = JSON.parse(raw.toString('utf8', n + 1, n + 1 + len)) as TagStamp[];
      payload = raw.subarray(n + 1 + len);
      flag = flag === 0x54 ? 0x4a : 0x5a;
    }
    flag += 0x20; // to lower case: the same encodings as j and z
  }
  let json: string;
  if (flag === 0x6a /* j */) json = payload.toString('utf8');
  else if (flag === 0x7a /* z */) json = (await gunzipAsync(payload)).toString('utf8');
  else return undefined;
  const e: Entry = { json, freshUntil: now + pttl - window, keepUntil: now + pttl, version };
  if (tags) e.tags = tags;
  return e;
}
