/**
 * Fixed log-spaced histogram buckets, shared by every process, so histograms from
 * many workers add up by plain HINCRBY. Bucket k holds timings in
 * (2^((k-1)/4), 2^(k/4)] microseconds: four buckets per doubling (each about 19%
 * wide), bucket 0 everything up to 1 µs, the last everything from about 10 days up.
 * A histogram is at most BUCKETS counters whatever the volume: no per-job records.
 */
export const PER_DOUBLING = 4;
export const LAST_BUCKET = 40 * PER_DOUBLING;
export const BUCKETS = LAST_BUCKET + 1;

/** The bucket of a timing given in ms. */
export function bucketOf(ms: number): number {
  if (!(ms > 0.001)) return 0; // also NaN and negative (clock skew between machines)
  const k = Math.ceil(PER_DOUBLING * Math.log2(ms * 1000) - 1e-9);
  return Math.min(k, LAST_BUCKET);
}

/** Upper bound of bucket k in ms. */
export function upperMs(k: number): number {
  return 2 ** (k / PER_DOUBLING) / 1000;
}

/** Lower bound of bucket k in ms. */
export function lowerMs(k: number): number {
  return k === 0 ? 0 : upperMs(k - 1);
}

/**
 * The q-quantile (0 < q <= 1) of a histogram given as counts per bucket, in ms,
 * interpolated linearly inside the bucket that holds it: never further from the
 * exact value than that bucket's width. 0 for an empty histogram.
 */
export function quantile(counts: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let k = 0; k < counts.length; k++) total += counts[k]!;
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let below = 0;
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k]!;
    if (c > 0 && below + c >= rank) {
      const lo = lowerMs(k);
      return lo + ((rank - below) / c) * (upperMs(k) - lo);
    }
    below += c;
  }
  return upperMs(counts.length - 1);
}
