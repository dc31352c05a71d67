import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import { Periodic } from '../util/periodic.js';
import { fields } from './info.js';
import type { StreamKeys } from './keys.js';

/**
 * Removes consumers that stopped (a crashed process leaves its consumer names in
 * the group for ever): those idle longer than `consumerTimeout` with nothing
 * pending. A dead consumer's pending entries are first claimed by live consumers
 * after claimIdle, which empties its pending list; the next round removes it.
 */
export class Janitor {
  private readonly periodic: Periodic;

  constructor(
    private readonly client: Redis,
    private readonly keys: StreamKeys,
    private readonly group: string,
    private readonly own: Set<string>,
    private readonly consumerTimeout: number,
    private readonly logger: Logger,
    onError: (err: unknown) => void,
  ) {
    this.periodic = new Periodic(
      Math.min(60_000, Math.max(100, Math.floor(consumerTimeout / 2))),
      () => this.sweep(),
      onError,
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** Returns the names removed. */
  async sweep(): Promise<string[]> {
    const raw = (await this.client.xinfo('CONSUMERS', this.keys.stream, this.group)) as unknown[][];
    const removed: string[] = [];
    for (const c of raw) {
      const f = fields(c);
      const name = String(f.get('name'));
      if (this.own.has(name) || Number(f.get('pending')) > 0 || Number(f.get('idle')) <= this.consumerTimeout)
        continue;
      const done = await callScript<number>(
        this.client,
        'remove-consumer',
        [this.keys.stream],
        [this.group, name],
      );
      if (done === 1) removed.push(name);
    }
    if (removed.length > 0)
      this.logger.info(
        { stream: this.keys.stream, group: this.group, removed },
        `removed ${removed.length} stopped consumer(s) from the group`,
      );
    return removed;
  }
}
