import { type Redis, ReplyError } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { MARK_TTL_MS, type SpoolTarget } from '../spool/target.js';
import type { PreparedJob } from './add-batcher.js';
import { type QueueKeys, spoolMarkKey } from './keys.js';
import { SEP } from './record.js';
import { scriptKeys } from './script-keys.js';

/** One add() or addBulk() chunk of a spooled queue: its jobs, each with a client-made id. */
export type SpooledJobs = { job: PreparedJob; generated: boolean }[];

/** Jobs add-spooled.lua takes on its fast path (given a generated id): priority 0, no delay, group or dedup. */
const isPlain = (j: PreparedJob) => j.priority === 0 && j.delay === 0 && j.group === '' && j.dedupMode === '';

/** Refusals that say "not now" or "full": the batch waits in the spool and is sent again. */
const RETRYABLE = /^(LOADING|BUSY|TRYAGAIN|READONLY|MASTERDOWN|CLUSTERDOWN|NOSCRIPT|OOM)\b/;

/** How a queue's spool reaches Redis: add-spooled.lua with the run's mark. */
export function queueSpoolTarget(
  client: Redis,
  keys: QueueKeys,
  onAdded: ((count: number) => void) | undefined,
): SpoolTarget<SpooledJobs> {
  return {
    async apply(run, items, force) {
      const allKeys = [...scriptKeys(keys), spoolMarkKey(keys, run)];
      const dedupIndex = new Map<string, number>();
      let heads = '';
      let kinds = '';
      const plain: string[] = [];
      const other: (string | number)[] = [];
      for (const item of items) {
        heads += `${item.seq},${item.value.length};`;
        for (const { job: j, generated } of item.value) {
          if (generated && isPlain(j)) {
            kinds += 'p';
            plain.push(j.id, j.record);
            continue;
          }
          kinds += generated ? 'g' : 'o';
          let dedup: string | number = j.dedupKey;
          if (j.dedupMode === 't' || j.dedupMode === 'd') {
            dedup = dedupIndex.get(j.dedupKey) ?? 0;
            if (dedup === 0) {
              dedup = allKeys.push(j.dedupKey);
              dedupIndex.set(j.dedupKey, dedup);
            }
          }
          other.push(j.id, j.record, j.priority, j.delay, j.group, j.dedupMode, dedup, j.dedupTtl);
        }
      }
      const args = [MARK_TTL_MS, force ? '1' : '0', heads, kinds, plain.join(SEP), ...other];
      const reply = await callScript<string[]>(client, 'add-spooled', allKeys, args);
      if (reply[0] === 'gap') return { gap: Number(reply[1]) };
      let count = 0;
      let at = 2;
      const flags = reply[1]!;
      const ids = items.map((item, i) => {
        const flag = flags[i];
        if (flag === '-') return null;
        count += item.value.length;
        return flag === '=' ? item.value.map((j) => j.job.id) : reply[at++]!.split(SEP);
      });
      onAdded?.(count);
      return { ids };
    },
    encode: (jobs) =>
      JSON.stringify(
        jobs.map(({ job: j, generated }) => [
          j.id,
          generated ? 1 : 0,
          j.record,
          j.priority,
          j.delay,
          j.group,
          j.dedupMode,
          j.dedupKey,
          j.dedupTtl,
        ]),
      ),
    decode: (body) =>
      (
        JSON.parse(body) as [
          string,
          number,
          string,
          number,
          number,
          string,
          PreparedJob['dedupMode'],
          string,
          number,
        ][]
      ).map(([id, generated, record, priority, delay, group, dedupMode, dedupKey, dedupTtl]) => ({
        job: { id, record, priority, delay, group, dedupMode, dedupKey, dedupTtl },
        generated: generated === 1,
      })),
    weight: (jobs) => jobs.length,
    isDefinite: (err) =>
      err instanceof (ReplyError as typeof Error) && !RETRYABLE.test((err as Error).message),
  };
}
