import { type Redis, ReplyError } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import { MARK_TTL_MS, type SpoolTarget } from '../spool/target.js';
import type { PreparedJob } from './add-batcher.js';
import { type QueueKeys, spoolMarkKey } from './keys.js';
import { SEP } from './record.js';
import { scriptKeys } from './script-keys.js';

/** One add() or addBulk() chunk of a spooled queue: its jobs, each with a client-made id. */
export type SpooledJobs = { job: PreparedJob; generated: boolean }[];

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
      const args: (string | number)[] = [MARK_TTL_MS, force ? '1' : '0', items.length];
      const counts: number[] = [];
      for (const item of items) {
        args.push(item.seq, item.value.length);
        counts.push(item.value.length);
        for (const { job: j, generated } of item.value) {
          let dedup: string | number = j.dedupKey;
          if (j.dedupMode === 't' || j.dedupMode === 'd') {
            dedup = dedupIndex.get(j.dedupKey) ?? 0;
            if (dedup === 0) {
              dedup = allKeys.push(j.dedupKey);
              dedupIndex.set(j.dedupKey, dedup);
            }
          }
          args.push(
            j.id,
            generated ? '1' : '0',
            j.record,
            j.priority,
            j.delay,
            j.group,
            j.dedupMode,
            dedup,
            j.dedupTtl,
          );
        }
      }
      const reply = await callScript<string[]>(client, 'add-spooled', allKeys, args);
      if (reply[0] === 'gap') return { gap: Number(reply[1]) };
      const ids = reply.slice(1).map((s) => (s === '' ? null : s.split(SEP)));
      onAdded?.(counts.reduce((sum, n, i) => (ids[i] ? sum + n : sum), 0));
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
    isDefinite: (err) =>
      err instanceof (ReplyError as typeof Error) && !RETRYABLE.test((err as Error).message),
  };
}
