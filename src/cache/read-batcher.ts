import type { RedisTier } from './redis-tier.js';

/** What read.lua says of one key: value (as stored), ms of life left, whether our lock was taken. */
export type ReadResult = [Buffer | null, number, number];

interface Pending {
  key: string;
  token: string;
  resolve: (r: ReadResult) => void;
  reject: (err: unknown) => void;
}

/** Most keys per read.lua call: keeps one call from holding Redis for long. */
const MAX_BATCH = 256;

/**
 * Coalesces the Redis reads of one event-loop turn into one read.lua call. ioredis costs
 * ~15 µs of Node CPU per command whatever it carries (docs/architecture.md), so a hundred
 * concurrent getOrSet calls cost one command, not a hundred. setImmediate (not a microtask)
 * so that every caller resumed by the same socket read joins the batch.
 */
export class ReadBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly tier: RedisTier,
    private readonly lockTtl: number,
  ) {}

  read(key: string, token = ''): Promise<ReadResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, token, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) this.send(all.slice(i, i + MAX_BATCH));
  }

  private send(batch: Pending[]): void {
    this.tier
      .read(
        batch.map((p) => p.key),
        batch.map((p) => p.token),
        this.lockTtl,
      )
      .then(
        (flat) => {
          batch.forEach((p, i) => {
            p.resolve([flat[3 * i] as Buffer | null, flat[3 * i + 1] as number, flat[3 * i + 2] as number]);
          });
        },
        (err) => {
          for (const p of batch) p.reject(err);
        },
      );
  }
}
