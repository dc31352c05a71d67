/** Counts since the cache was created. `stats()` returns a copy. */
export interface CacheStats {
  memory: { hits: number; misses: number; entries: number; bytes: number };
  redis: { hits: number; misses: number; errors: number };
  loader: { calls: number; errors: number; timeouts: number };
  /** Stale values returned: `stale` by stale-while-revalidate, `graced` after a loader failed. */
  served: { stale: number; graced: number };
}

export function emptyStats(): CacheStats {
  return {
    memory: { hits: 0, misses: 0, entries: 0, bytes: 0 },
    redis: { hits: 0, misses: 0, errors: 0 },
    loader: { calls: 0, errors: 0, timeouts: 0 },
    served: { stale: 0, graced: 0 },
  };
}
