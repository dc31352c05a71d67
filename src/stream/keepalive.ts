import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { Periodic } from '../util/periodic.js';
import type { Consumer } from './consumer.js';
import type { StreamKeys } from './keys.js';

/**
 * Every third of claimIdle, touches the entries each live consumer holds (touch.lua)
 * so their idle time stays under claimIdle however slow the sink or long the retry
 * backoff: XAUTOCLAIM then only ever takes a stopped consumer's entries. Entries a
 * consumer turns out not to own any more are dropped from its hands.
 */
export class Keepalive {
  private readonly periodic: Periodic;

  constructor(
    private readonly client: Redis,
    private readonly keys: StreamKeys,
    private readonly group: string,
    private readonly consumers: Consumer[],
    claimIdle: number,
    onError: (err: unknown) => void,
  ) {
    this.periodic = new Periodic(Math.max(20, Math.floor(claimIdle / 3)), () => this.touchAll(), onError);
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  private async touchAll(): Promise<void> {
    await Promise.all(
      this.consumers.map(async (c) => {
        const ids = c.heldIds();
        for (let i = 0; i < ids.length; i += 1000) {
          const lost = await callScript<string[]>(
            this.client,
            'touch',
            [this.keys.stream],
            [this.group, c.name, ...ids.slice(i, i + 1000)],
          );
          c.forget(lost);
        }
      }),
    );
  }
}
