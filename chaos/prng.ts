/** mulberry32: a tiny seeded PRNG, so one seed always gives the same fault schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [min, max). */
export function between(rand: () => number, min: number, max: number): number {
  return min + rand() * (max - min);
}

/** A uniform integer in [0, n). */
export function pick(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}
