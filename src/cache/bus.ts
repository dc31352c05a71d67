import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** `s` a key was set or filled, `d` deleted, `u` a loader lock was given up, `c` a namespace cleared. */
export type BusOp = 's' | 'd' | 'u' | 'c';

export interface BusMessage {
  fromSelf: boolean;
  op: BusOp;
  /** For `s`: the version of the value written (see Entry.version); else ''. */
  version: string;
  namespace: string;
  key: string;
}

/**
 * Invalidation over Redis pub/sub. Messages carry keys, never values:
 * `<instanceId>|<op>|<version>|<namespace>|<key>`. The instance id lets a cache skip its own
 * writes, which it has already applied to its memory tier.
 */
export class Bus {
  readonly id = randomBytes(8).toString('hex');
  readonly subscribed: Promise<void>;
  private connectedBefore = false;
  private dropped = false;

  constructor(
    private readonly sub: Redis,
    channel: string,
    onMessage: (m: BusMessage) => void,
    /** Called when the subscriber is back after a drop: messages may have been missed. */
    onResubscribed: () => void,
  ) {
    sub.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      const m = this.parse(text);
      if (m) onMessage(m);
    });
    sub.on('close', () => {
      if (this.connectedBefore) this.dropped = true;
    });
    sub.on('ready', () => {
      if (this.dropped) {
        this.dropped = false;
        // Messages sent while disconnected are lost: the caller empties its memory tier
        // once the subscription is back (a failure here means the connection dropped again).
        sub.subscribe(channel).then(onResubscribed, () => {});
      }
      this.connectedBefore = true;
    });
    this.subscribed = sub.subscribe(channel).then(() => {
      this.connectedBefore = true;
    });
    // A failed first subscribe is retried by ioredis on reconnect; the caller sees it via ready().
    this.subscribed.catch(() => {});
  }

  message(op: BusOp, namespace: string, key: string, version = ''): string {
    return `${this.id}|${op}|${version}|${namespace}|${key}`;
  }

  private parse(text: string): BusMessage | undefined {
    const a = text.indexOf('|');
    const b = text.indexOf('|', a + 1);
    const c = text.indexOf('|', b + 1);
    const d = text.indexOf('|', c + 1);
    if (a < 0 || b !== a + 2 || c < 0 || d < 0) return undefined;
    return {
      fromSelf: text.slice(0, a) === this.id,
      op: text[a + 1] as BusOp,
      version: text.slice(b + 1, c),
      namespace: text.slice(c + 1, d),
      key: text.slice(d + 1),
    };
  }

  async close(): Promise<void> {
    try {
      await this.sub.quit();
    } catch {
      this.sub.disconnect();
    }
  }
}
