import type { Redis } from 'ioredis';
import { type ConnectionOptions, createClient } from '../../redis/connection.js';
import type { QueueKeys } from '../keys.js';
import { SEP } from '../record.js';

/** The pub/sub channel queue.cancel() publishes on: `id SEP token SEP reason`. */
export const cancelChannel = (keys: QueueKeys) => `${keys.tag}:cancel`;

type OnCancel = (id: string, token: string, reason: string) => void;

/**
 * Hears queue.cancel() on a subscriber connection of its own: one worker's channel, or
 * every partition's channel of a partitioned worker (one connection for all). The message
 * carries the job's lease token, so only the worker running that attempt acts on it. A
 * message sent while the connection is down is not heard (pub/sub keeps nothing):
 * queue.cancel() reports how many workers heard it.
 */
export class CancelListener {
  private client: Redis | undefined;
  private readonly handlers = new Map<string, OnCancel>();

  constructor(private readonly connection: ConnectionOptions | undefined) {}

  /** Hears `channel` from start() on (or at once, if started). */
  listen(channel: string, onCancel: OnCancel, onError: (err: unknown) => void): void {
    this.handlers.set(channel, onCancel);
    this.client?.subscribe(channel).catch(onError);
  }

  start(onError: (err: unknown) => void): void {
    if (this.client) return;
    const client = createClient(this.connection, 'blocking');
    this.client = client;
    client.on('error', () => {}); // reconnects and resubscribes on its own
    client.on('message', (channel: string, message: string) => {
      const [id = '', token = '', reason = ''] = message.split(SEP);
      this.handlers.get(channel)?.(id, token, reason);
    });
    client.subscribe(...this.handlers.keys()).catch(onError);
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.quit().catch(() => {});
    client.disconnect();
  }
}
