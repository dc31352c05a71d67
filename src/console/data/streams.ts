import type { Redis } from 'ioredis';
import { findStreams } from '../../stream/find.js';
import { readInfo } from '../../stream/info.js';
import { streamKeys } from '../../stream/keys.js';
import type { StreamInfo } from '../../stream/types.js';

/** Streams have no registry: found by SCAN, so the list is kept this long. */
const LIST_TTL_MS = 30_000;
const MAX_STREAMS = 200;

export interface DeadLetter {
  id: string;
  group?: string;
  error?: string;
  /** The event JSON, cut. */
  data?: string;
}

/** Event streams with their groups and dead letters: one SCAN pass every LIST_TTL_MS, then a few commands per stream. */
export class StreamsReader {
  private names: string[] = [];
  private listedAt = 0;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async list(): Promise<Record<string, StreamInfo>> {
    if (Date.now() - this.listedAt > LIST_TTL_MS) {
      this.names = (await findStreams(this.client, this.prefix)).slice(0, MAX_STREAMS);
      this.listedAt = Date.now();
    }
    const out: Record<string, StreamInfo> = {};
    for (const name of this.names) out[name] = await readInfo(this.client, streamKeys(this.prefix, name));
    return out;
  }

  /** The newest dead letters of one stream, at most `count`. */
  async deadLetters(name: string, count = 50, admin = false): Promise<DeadLetter[]> {
    const entries = (await this.client.xrevrange(
      streamKeys(this.prefix, name).dead,
      '+',
      '-',
      'COUNT',
      count,
    )) as [string, string[]][];
    return entries.map(([id, f]) => {
      const get = (field: string) => {
        for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === field) return f[i + 1];
        return undefined;
      };
      return {
        id,
        group: get('group'),
        error: get('error')?.slice(0, 500),
        data: admin ? get('data')?.slice(0, 300) : undefined,
      };
    });
  }

  forget(): void {
    this.listedAt = 0;
  }
}
