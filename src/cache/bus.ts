import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * `s` a key was set or filled, `d` deleted, `u` a loader lock was given up, `c` a namespace
 * cleared, `g` a tag invalidated (the key field holds the tag), `p` every key starting with
 * a prefix invalidated (the key field holds the prefix).
 */
export type BusOp = 's' | 'd' | 'u' | 'c' | 'g' | 'p';

/** On the wire a set carries its value's version, under its own letter (see Bus). */
const VERSIONED_SET = 'S' as const;

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
 * `<instanceId>|<op>|<namespace>|<key>`, and for a set `<instanceId>|S|<version>|<namespace>|<key>`.
 * The instance id lets a cache skip its own writes, which it has already applied to its memory
 * tier. A set sent as `s` (by a version of Hopper before versions) reads as version '', which
 * matches no copy: it always evicts.
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

  message(op: BusOp, namespace: string, key: string, version?: string): string {
    if (version !== undefined) return `${this.id}|${VERSIONED_SET}|${version}|${namespace}|${key}`;
    return `${this.id}|${op}|${namespace}|${key}`;
  }

  private parse(text: string): BusMessage | undefined {
    const a = text.indexOf('|');
    let b = text.indexOf('|', a + 1);
    if (a < 0 || b !== a + 2) return undefined;
    let op = text[a + 1] as BusOp | typeof VERSIONED_SET;
    let version = '';
    if (op === VERSIONED_SET) {
      const v = text.indexOf('|', b + 1);
      if (v < 0) return undefined;
      op = 's';
      version = text.slice(b + 1, v);
      b = v;
    }
    const c = text.indexOf('|', b + 1);
    if (c < 0) return undefined;
    return {
      fromSelf: text.slice(0, a) === this.id,
      op,
      version,
      namespace: text.slice(b + 1, c),
      key: text.slice(c + 1),
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
