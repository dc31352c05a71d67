import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStream } from '../../src/stream/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { quiet, unique } from './helpers.js';

const fx = new RedisFixture();

/** Markers of every event in the stream, `d` entries and `e` entries alike. */
async function storedMarkers(key: string): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  for (const [, fields] of await fx.raw.xrange(key, '-', '+'))
    for (let i = 1; i < fields.length; i += 2) {
      const m = (JSON.parse(fields[i]!) as { m: number }).m;
      seen.set(m, (seen.get(m) ?? 0) + 1);
    }
  return seen;
}

test('a CLIENT KILL storm while appending: every acknowledged event is stored exactly once, none twice', async () => {
  // ioredis resends a command whose reply a killed connection lost; the resent append
  // must find its first execution's reply instead of adding the events again.
  const s = fx.track(new EventStream(unique('resend'), { connection: fx.url, logger: quiet }));
  await s.length();
  const TOTAL = 4000;
  const acked: number[] = [];
  let failed = 0;
  let next = 0;
  let appending = true;
  let kills = 0;
  const killer = (async () => {
    while (appending) {
      await fx.raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').catch(() => {});
      kills++;
      await sleep(10);
    }
  })();
  // Many appends in flight at once (one entry each, and batches of 3 in one entry), so a
  // kill often lands after Redis ran an append and before its reply went out.
  const writers = Array.from({ length: 40 }, async (_, w) => {
    while (next < TOTAL) {
      const batch = w % 2 === 0 ? [next++] : [next++, next++, next++];
      try {
        const events = batch.map((m) => ({ m }));
        if (w % 4 === 1) await s.appendBatch(events);
        else await s.appendMany(events);
        acked.push(...batch);
      } catch {
        failed += batch.length; // not acknowledged: stored once or not at all
      }
    }
  });
  await Promise.all(writers);
  appending = false;
  await killer;
  await s.length(); // reconnected
  const seen = await storedMarkers(s.keys.stream);
  const twice = [...seen].filter(([, n]) => n > 1).map(([m]) => m);
  assert.deepEqual(twice.slice(0, 10), [], `${twice.length} events stored more than once (${kills} kills)`);
  const lost = acked.filter((m) => !seen.has(m));
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged events missing`);
  assert.ok(acked.length > TOTAL / 2, `most appends were acknowledged (${acked.length}, ${failed} failed)`);
  assert.ok(kills > 20, `the storm killed connections (${kills})`);
});
