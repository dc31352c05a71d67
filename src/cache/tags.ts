import type { Redis } from 'ioredis';
import { groupBySlot } from '../redis/slots.js';
import { ValidationError } from '../util/errors.js';
import type { CacheKeys } from './keys.js';
import { MAX_KEY_BYTES } from './options.js';

/** A tag and its generation when the entry was written (-1: written while Redis was away, memory only). */
export type TagStamp = [tag: string, generation: number];

/** Most tags on one entry: each costs a key read on every Redis-tier hit of the entry. */
export const MAX_TAGS = 64;

/**
 * A generation key outlives the longest entry carrying it by this much: the entry is
 * written a round trip after its tags were touched.
 */
const LIFE_MARGIN_MS = 60_000;

export function checkTag(tag: unknown, field = 'tag'): string {
  if (typeof tag !== 'string' || tag.length === 0)
    throw new ValidationError(field, 'must be a non-empty string');
  if (tag.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(tag) > MAX_KEY_BYTES)
    throw new ValidationError(field, `must be at most ${MAX_KEY_BYTES} bytes (UTF-8)`);
  return tag;
}

/** The tags of a write, checked (each a `ValidationError` naming `tags[i]`), duplicates dropped. */
export function checkTags(tags: unknown, field = 'tags'): string[] {
  if (!Array.isArray(tags)) throw new ValidationError(field, 'must be an array of strings');
  if (tags.length > MAX_TAGS) throw new ValidationError(field, `must hold at most ${MAX_TAGS} tags`);
  for (const [i, t] of tags.entries()) checkTag(t, `${field}[${i}]`);
  return [...new Set(tags as string[])];
}

/**
 * Tag invalidation by generations, checked on read (the idea BentoCache uses with
 * timestamps; generations need no clock). Each tag has a counter in Redis. A tagged write
 * reads its tags' counters first and stores them with the entry; `invalidateTag` bumps the
 * counter; a reader that finds an entry in Redis compares its stored counters with the
 * current ones and treats a mismatch as a miss. So a write racing an invalidation can never
 * leave a stale value readable: if it read the counter before the bump, its entry carries
 * the old one. Every script touches one key (or keys of one slot), so it works on a Cluster.
 */
export class TagStore {
  constructor(
    private readonly client: Redis,
    private readonly keys: CacheKeys,
    private readonly bySlot: boolean,
  ) {}

  /** Current generations of `tags`, keeping their keys alive at least `lifeMs` (tag-touch.lua). */
  async touch(tags: readonly string[], lifeMs: number): Promise<TagStamp[]> {
    const life = lifeMs + LIFE_MARGIN_MS;
    const touch = (this.client as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>)[
      'cache:tag-touch'
    ]!.bind(this.client);
    const out = new Map<string, number>();
    await Promise.all(
      this.groups(tags).map(async (group) => {
        const gens = await touch(group.length, ...group.map((t) => this.keys.tag(t)), life);
        for (const [i, t] of group.entries()) out.set(t, Number(gens[i]));
      }),
    );
    return tags.map((t) => [t, out.get(t)!]);
  }

  /**
   * For each entry (undefined: none), whether its tags are still at the generations it was
   * written with. One MGET for all the tags of all the entries (one per slot on a Cluster).
   */
  async valid(stamps: readonly (readonly TagStamp[] | undefined)[]): Promise<boolean[]> {
    const tags = [...new Set(stamps.flatMap((s) => (s ?? []).map(([t]) => t)))];
    if (tags.length === 0) return stamps.map(() => true);
    const current = new Map<string, string | null>();
    await Promise.all(
      this.groups(tags).map(async (group) => {
        const gens = await this.client.mget(...group.map((t) => this.keys.tag(t)));
        for (const [i, t] of group.entries()) current.set(t, gens[i] ?? null);
      }),
    );
    // A missing generation key means it lapsed or was cleared: no entry can vouch for itself.
    return stamps.map((s) => (s ?? []).every(([t, gen]) => current.get(t) === String(gen)));
  }

  /** Bumps the tag's generation and publishes `message` (tag-invalidate.lua). */
  async invalidate(tag: string, channel: string, message: string): Promise<void> {
    const fn = (this.client as unknown as Record<string, (...a: unknown[]) => Promise<number>>)[
      'cache:tag-invalidate'
    ]!.bind(this.client);
    await fn(1, this.keys.tag(tag), channel, message);
  }

  private groups(tags: readonly string[]): string[][] {
    return this.bySlot ? groupBySlot(tags, (t) => this.keys.tag(t)) : [[...tags]];
  }
}
