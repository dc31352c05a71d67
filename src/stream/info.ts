import type { Redis } from 'ioredis';
import type { StreamKeys } from './keys.js';
import type { GroupInfo, StreamInfo } from './types.js';

/** XINFO replies are flat `field, value, ...` arrays. */
export function fields(reply: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
  return map;
}

/** Length, dead letters and every group's pending and lag, in one round trip. */
export async function readInfo(client: Redis, keys: StreamKeys): Promise<StreamInfo> {
  const replies = await client.multi().xlen(keys.stream).xlen(keys.dead).exists(keys.stream).exec();
  if (!replies) throw new Error('stream info: transaction aborted');
  for (const [err] of replies) if (err) throw err;
  const length = Number(replies[0]![1]);
  const dead = Number(replies[1]![1]);
  const groups: GroupInfo[] = [];
  if (Number(replies[2]![1]) === 1) {
    const raw = (await client.xinfo('GROUPS', keys.stream)) as unknown[][];
    for (const g of raw) {
      const f = fields(g);
      const lag = f.get('lag');
      const read = f.get('entries-read');
      groups.push({
        name: String(f.get('name')),
        consumers: Number(f.get('consumers')),
        pending: Number(f.get('pending')),
        lag: lag === null || lag === undefined ? null : Number(lag),
        lastDeliveredId: String(f.get('last-delivered-id')),
        entriesRead: read === null || read === undefined ? null : Number(read),
      });
    }
  }
  return { length, dead, groups };
}
