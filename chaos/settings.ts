/** How big a run is. The same settings (and seed) drive every target, so the figures compare. */
export interface Settings {
  producers: number;
  workers: number;
  /** Handlers at once per worker process. */
  concurrency: number;
  /** Adds per second per producer process, with `inflight` adds outstanding at most. */
  ratePerProducer: number;
  inflight: number;
  /** A handler sleeps a random time in this range. */
  jobMs: [number, number];
  /** Worker lease (Hopper leaseMs, BullMQ lockDuration and stalledInterval). */
  leaseMs: number;
  /** Faults happen during this phase. */
  chaosMs: number;
  /** No faults, producers still add: every live worker should take jobs again. */
  quietMs: number;
  /** Producers stopped: the longest wait for the queue to empty. */
  drainMs: number;
  /** Time between two faults, drawn in this range. */
  faultGapMs: [number, number];
}

/** The full form: a few minutes per target and seed. */
export const FULL: Settings = {
  producers: 2,
  workers: 3,
  concurrency: 4,
  ratePerProducer: 100,
  inflight: 8,
  jobMs: [10, 60],
  leaseMs: 2500,
  chaosMs: 180_000,
  quietMs: 10_000,
  drainMs: 60_000,
  faultGapMs: [1000, 4000],
};

/** CI's form: about a minute for one target and seed, every fault kind at least once. */
export const SHORT: Settings = {
  ...FULL,
  chaosMs: 28_000,
  quietMs: 8_000,
  drainMs: 15_000,
  faultGapMs: [800, 2200],
};
