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
      const sizes: number[] = [];
      let kinds = '';
      let allPlain = true;
      let allSingle = true;
      const plain: string[] = [];
      const other: (string | number)[] = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        // add-spooled.lua finds the items already applied by one comparison with the mark.
        if (item.seq !== items[0]!.seq + i)
          throw new Error('spooled items must have consecutive sequence numbers');
        sizes.push(item.value.length);
        if (item.value.length !== 1) allSingle = false;
        for (const { job: j, generated } of item.value) {
          if (generated && isPlain(j)) {
            kinds += 'p';
            plain.push(j.id, j.record);
            continue;
          }
          allPlain = false;
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
      const args = [
        MARK_TTL_MS,
        force ? '1' : '0',
        items[0]?.seq ?? 0,
        items.length,
        allSingle ? '' : sizes.join(','),
        allPlain ? '' : kinds,
        plain.join(SEP),
        ...other,
      ];
      const reply = await callScript<string[]>(client, 'add-spooled', allKeys, args);
      if (reply[0] === 'gap') return { gap: Number(reply[1]) };
      let count = 0;
      let at = 2;
      const flags = reply[1]!;
      const ids = items.map((item, i) => {
        const flag = flags[i];
        if (flag === '-') return null;
        count += item.value.length;
        // '=': the ids sent, which the producer already holds (null says so, without a copy).
        return flag === '=' ? null : reply[at++]!.split(SEP);
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
