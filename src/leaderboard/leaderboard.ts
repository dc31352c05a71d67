import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient } from '../redis/connection.js';
import { ValidationError } from '../util/errors.js';
import { WINDOWS, type Window, windowKey } from './windows.js';

export interface LeaderboardOptions {
  /** Redis URL or ioredis options; defaults to REDIS_URL, then redis://127.0.0.1:6379. */
  connection?: ConnectionOptions;
  /** Keys are `{<prefix>:<name>}:<window>`. Default `hopper:lb`. */
  prefix?: string;
  /** The windows every score is written to. Default all three: `all`, `daily`, `weekly`. */
  windows?: readonly Window[];
}

export interface ReadOptions {
  /** Default `all`. */
  window?: Window;
  /** The day or week to read (default now): yesterday's board is `{ window: 'daily', at: yesterday }`. */
  at?: Date;
}

export interface Standing {
  member: string;
  score: number;
  /** 1 for the highest score. */
  rank: number;
}

export const MAX_MEMBER_BYTES = 1024;
export const MAX_COUNT = 1000;

/**
 * Seed 001's leaderboard: scores in Redis sorted sets, highest first, kept at once for all
 * time, the UTC day and the ISO week (each write updates every window in one MULTI; daily
 * and weekly keys expire after 8 days and 5 weeks). Reads are single commands: top N, a
 * member's rank, the members around one.
 */
export class Leaderboard {
  readonly name: string;
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly windows: readonly Window[];

  constructor(name: string, options: LeaderboardOptions = {}) {
    if (typeof name !== 'string' || name.length === 0 || /[{}]/.test(name))
      throw new ValidationError('name', 'must be a non-empty string without { or }');
    const windows = options.windows ?? WINDOWS;
    if (!Array.isArray(windows) || windows.length === 0 || windows.some((w) => !WINDOWS.includes(w)))
      throw new ValidationError('options.windows', `must be a non-empty list of ${WINDOWS.join(', ')}`);
    this.name = name;
    this.prefix = options.prefix ?? 'hopper:lb';
    this.windows = windows;
    this.client = createClient(options.connection, 'command');
    this.client.on('error', () => {}); // reconnects on its own; failed calls reject to the caller
  }

  /** Sets a member's score in every window (the day's and week's score become this value). */
  async set(member: string, score: number, at: Date = new Date()): Promise<void> {
    this.check(member, score, 'score');
    await this.write(at, (tx, key) => tx.zadd(key, score, member));
  }

  /** Adds `by` to a member's score in every window (a trade's profit, a game's points); returns the all-time score. */
  async increment(member: string, by: number, at: Date = new Date()): Promise<number> {
    this.check(member, by, 'by');
    const results = await this.write(at, (tx, key) => tx.zincrby(key, by, member));
    return Number(results[0]);
  }

  /** The `count` highest, rank 1 first. */
  async top(count: number, opts: ReadOptions = {}): Promise<Standing[]> {
    checkCount(count, 'count');
    return this.range(this.readKey(opts), 0, count - 1);
  }

  /** A member's standing, or null when it has no score in that window. */
  async rank(member: string, opts: ReadOptions = {}): Promise<Standing | null> {
    checkMember(member);
    const key = this.readKey(opts);
    const [[, rank], [, score]] = (await this.client
      .multi()
      .zrevrank(key, member)
      .zscore(key, member)
      .exec()) as [[Error | null, number | null], [Error | null, string | null]];
    return rank === null || score === null ? null : { member, score: Number(score), rank: rank + 1 };
  }

  /** The member and up to `count` members on each side of it, best first; empty when it has no score. */
  async around(member: string, count: number, opts: ReadOptions = {}): Promise<Standing[]> {
    checkMember(member);
    checkCount(count, 'count');
    const key = this.readKey(opts);
    const rank = await this.client.zrevrank(key, member);
    if (rank === null) return [];
    return this.range(key, Math.max(0, rank - count), rank + count);
  }

  /** Members with a score in the window. */
  async size(opts: ReadOptions = {}): Promise<number> {
    return this.client.zcard(this.readKey(opts));
  }

  /** Removes a member from the all-time board and the current day's and week's. */
  async remove(member: string, at: Date = new Date()): Promise<void> {
    checkMember(member);
    const tx = this.client.multi();
    for (const w of this.windows) tx.zrem(this.key(w, at), member);
    await tx.exec();
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private async range(key: string, start: number, stop: number): Promise<Standing[]> {
    const flat = await this.client.zrevrange(key, start, stop, 'WITHSCORES');
    const out: Standing[] = [];
    for (let i = 0; i < flat.length; i += 2)
      out.push({ member: flat[i]!, score: Number(flat[i + 1]), rank: start + i / 2 + 1 });
    return out;
  }

  private async write(
    at: Date,
    op: (tx: ReturnType<Redis['multi']>, key: string) => void,
  ): Promise<unknown[]> {
    checkDate(at);
    const tx = this.client.multi();
    for (const w of this.windows) {
      const { ttl } = windowKey(w, at);
      const key = this.key(w, at);
      op(tx, key);
      if (ttl > 0) tx.expire(key, ttl);
    }
    const replies = (await tx.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    // One reply per window, then its EXPIRE when it has one: keep the writes' replies only.
    const out: unknown[] = [];
    let i = 0;
    for (const w of this.windows) {
      out.push(replies[i]?.[1]);
      i += windowKey(w, at).ttl > 0 ? 2 : 1;
    }
    return out;
  }

  private readKey(opts: ReadOptions): string {
    const window = opts.window ?? 'all';
    if (!WINDOWS.includes(window))
      throw new ValidationError('opts.window', `must be one of ${WINDOWS.join(', ')}`);
    const at = opts.at ?? new Date();
    checkDate(at);
    return this.key(window, at);
  }

  private key(window: Window, at: Date): string {
    return `{${this.prefix}:${this.name}}:${windowKey(window, at).suffix}`;
  }

  private check(member: string, value: number, field: string): void {
    checkMember(member);
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new ValidationError(field, `must be a finite number, got ${String(value)}`);
  }
}

function checkMember(member: unknown): void {
  if (typeof member !== 'string' || member.length === 0 || Buffer.byteLength(member) > MAX_MEMBER_BYTES)
    throw new ValidationError('member', `must be a non-empty string of at most ${MAX_MEMBER_BYTES} bytes`);
}

function checkCount(count: unknown, field: string): void {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_COUNT)
    throw new ValidationError(field, `must be an integer from 1 to ${MAX_COUNT}, got ${String(count)}`);
}

function checkDate(at: unknown): void {
  if (!(at instanceof Date) || Number.isNaN(at.getTime()))
    throw new ValidationError('at', 'must be a valid Date');
}
