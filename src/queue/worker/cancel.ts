import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient } from '../../redis/connection.js';
import type { QueueKeys } from '../keys.js';
import { SEP } from '../record.js';

/** The pub/sub channel queue.cancel() publishes on: `id SEP token SEP reason`. */
export const cancelChannel = (keys: QueueKeys) => `${keys.tag}:cancel`;

/**
 * Hears queue.cancel() for one worker on a subscriber connection of its own. The
 * message carries the job's lease token, so only the worker running that attempt
 * acts on it. A message sent while the connection is down is not heard (pub/sub
 * keeps nothing): queue.cancel() reports how many workers heard it.
 */
export class CancelListener {
  private client: Redis | undefined;

  constructor(
    private readonly connection: ConnectionOptions | undefined,
    private readonly channel: string,
    private readonly onCancel: (id: string, token: string, reason: string) => void,
  ) {}

  start(onError: (err: unknown) => void): void {
    if (this.client) return;
    const client = createClient(this.connection, 'blocking');
    this.client = client;
    client.on('error', () => {}); // reconnects and resubscribes on its own
    client.on('message', (_channel: string, message: string) => {
      const [id = '', token = '', reason = ''] = message.split(SEP);
      this.onCancel(id, token, reason);
    });
    client.subscribe(this.channel).catch(onError);
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.quit().catch(() => {});
    client.disconnect();
  }
}
