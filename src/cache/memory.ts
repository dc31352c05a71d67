import type { Entry } from './entry.js';

/** Per-entry bookkeeping (Map slot, object, numbers) counted on top of key and JSON length. */
const OVERHEAD = 64;

interface Slot {
  entry: Entry;
  bytes: number;
}

/**
 * The in-process tier: least recently used first out, bounded by entry count and by bytes.
 * A Map keeps insertion order, so moving a hit to the end makes the first key the LRU one.
 * Values are kept as JSON and parsed per hit: a caller mutating what it got cannot change
 * what the next caller gets.
 */
export class MemoryTier {
  private readonly slots = new Map<string, Slot>();
  /** Keys held per tag, so a tag invalidation drops them without walking every entry. */
  private readonly byTag = new Map<string, Set<string>>();
  private total = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  get bytes(): number {
    return this.total;
  }

  /** The entry while it may still be served (fresh or stale), else undefined. */
  get(key: string, now: number): Entry | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (now >= slot.entry.keepUntil) {
      this.remove(key, slot);
      return undefined;
    }
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.entry;
  }

  /** The version of the value held for `key`, without counting as a use. */
  versionOf(key: string): string | undefined {
    return this.slots.get(key)?.entry.version;
  }

  set(key: string, entry: Entry): void {
    const bytes = key.length + entry.json.length + OVERHEAD;
    const old = this.slots.get(key);
    if (old) this.remove(key, old);
    // One value larger than the whole tier would evict everything and still not fit.
    if (bytes > this.maxBytes) return;
    this.slots.set(key, { entry, bytes });
    this.total += bytes;
    for (const [tag] of entry.tags ?? []) {
      const keys = this.byTag.get(tag);
      if (keys) keys.add(key);
      else this.byTag.set(tag, new Set([key]));
    }
    while (this.slots.size > this.maxEntries || this.total > this.maxBytes) {
      const oldest = this.slots.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value, this.slots.get(oldest.value)!);
    }
  }

  delete(key: string): boolean {
    const slot = this.slots.get(key);
    if (!slot) return false;
    this.remove(key, slot);
    return true;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /** Drops every entry carrying `tag`; returns how many. */
  deleteTag(tag: string): number {
    const keys = this.byTag.get(tag);
    if (!keys) return 0;
    let n = 0;
    for (const key of [...keys]) if (this.delete(key)) n++;
    this.byTag.delete(tag);
    return n;
  }

  /** Drops every entry whose key starts with `prefix` (a walk over at most maxEntries keys). */
  deletePrefix(prefix: string): number {
    let n = 0;
    for (const [key, slot] of [...this.slots]) {
      if (key.startsWith(prefix)) {
        this.remove(key, slot);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.slots.clear();
    this.byTag.clear();
    this.total = 0;
  }

  private remove(key: string, slot: Slot): void {
    this.slots.delete(key);
    this.total -= slot.bytes;
    for (const [tag] of slot.entry.tags ?? []) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }
}
