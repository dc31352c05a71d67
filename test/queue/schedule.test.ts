import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MIN_EVERY_MS, Queue, ValidationError, Worker } from '../../src/index.js';
import { Scheduler } from '../../src/queue/schedule/scheduler.js';
import { queueScripts } from '../../src/queue/scripts.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';
import { assertConsecutive, redisNow, ticksMade } from './schedule-helpers.js';

requireRedisServer();
let redis: RedisProcess;
let raw: Redis;
const closers: (() => Promise<unknown>)[] = [];

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
after(async () => {
  for (const close of closers.reverse()) await close();
  raw.disconnect();
  await redis.stop();
});

function queue(label: string, opts: ConstructorParameters<typeof Queue>[1] = {}): Queue {
  const q = new Queue(uniqueName(label), { connection: redis.url, logger: quiet, ...opts });
  closers.push(() => q.close());
  return q;
}

/** A scheduler on its own connection, as a Worker runs one; started unless told not to. */
function scheduler(q: Queue, start = true): Scheduler {
  const client = new Redis(redis.url);
  defineScripts(client, queueScripts);
  const s = new Scheduler(client, q.keys, (err) => {
    throw err;
  });
  if (start) s.start();
  closers.push(async () => {
    await s.stop();
    client.disconnect();
  });
  return s;
}

describe('schedule input', () => {
  const template = { name: 'scan', data: { a: 1 } };
  const cases: [string, unknown, unknown, unknown, string][] = [
    ['every below the floor', { every: MIN_EVERY_MS - 1 }, template, undefined, 'repeat.every'],
    ['every not an integer', { every: 150.5 }, template, undefined, 'repeat.every'],
    ['every as a string', { every: '1000' }, template, undefined, 'repeat.every'],
    ['neither every nor cron', { interval: 1000 }, template, undefined, 'repeat'],
    ['every and cron together', { every: 1000, cron: '* * * * *' }, template, undefined, 'repeat.cron'],
    ['tz with every', { every: 1000, tz: 'UTC' }, template, undefined, 'repeat.tz'],
    ['an invalid cron expression', { cron: 'every monday' }, template, undefined, 'repeat.cron'],
    ['a cron field out of range', { cron: '61 * * * *' }, template, undefined, 'repeat.cron'],
    ['a cron that never fires', { cron: '0 0 30 2 *' }, template, undefined, 'repeat.cron'],
    [
      'an unknown time zone',
      { cron: '0 9 * * *', tz: 'Mars/Olympus_Mons' },
      template,
      undefined,
      'repeat.tz',
    ],
    ['no template name', { every: 1000 }, { data: 1 }, undefined, 'template.name'],
    [
      'a bad template option',
      { every: 1000 },
      { name: 'x', opts: { delay: -1 } },
      undefined,
      'template.opts.delay',
    ],
    [
      'a jobId in the template',
      { every: 1000 },
      { name: 'x', opts: { jobId: 'j' } },
      undefined,
      'template.opts.jobId',
    ],
    [
      'dedup in the template',
      { every: 1000 },
      { name: 'x', opts: { dedup: { key: 'k', ttl: 10 } } },
      undefined,
      'template.opts.dedup',
    ],
    ['data JSON cannot carry', { every: 1000 }, { name: 'x', data: 10n }, undefined, 'template.data'],
    ['a limit of zero', { every: 1000 }, template, { limit: 0 }, 'options.limit'],
    ['a negative limit', { every: 1000 }, template, { limit: -3 }, 'options.limit'],
    ['endAt before startAt', { every: 1000 }, template, { startAt: 4e12, endAt: 4e12 - 1 }, 'options.endAt'],
    ['endAt in the past', { every: 1000 }, template, { endAt: Date.now() - 1000 }, 'options.endAt'],
    ['startAt not a time', { every: 1000 }, template, { startAt: 'tomorrow' }, 'options.startAt'],
    ['an unknown catchUp', { every: 1000 }, template, { catchUp: 'all' }, 'options.catchUp'],
    ['an unknown option', { every: 1000 }, template, { repeatFor: 3 }, 'options.repeatFor'],
    [
      'no tick before endAt',
      { cron: '0 0 1 1 *' },
      template,
      { startAt: 4e12, endAt: 4e12 + 60_000 },
      'options.endAt',
    ],
  ];

  for (const [what, repeat, tmpl, options, field] of cases) {
    test(`${what}: a ValidationError naming ${field}, nothing stored`, async () => {
      const q = queue('bad');
      await assert.rejects(
        q.schedule('s', repeat as never, tmpl as never, options as never),
        (err: unknown) => {
          assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
          assert.equal(err.field, field);
          return true;
        },
      );
      assert.deepEqual(await q.schedules(), []);
      assert.equal(
        await raw.exists(`${q.keys.tag}:sched`, `${q.keys.tag}:sched:next`, `${q.keys.tag}:sched:runs`),
        0,
      );
    });
  }

  test('bad ids name the id', async () => {
    const q = queue('bad-id');
    for (const id of ['', 'a\nb', 'x'.repeat(201), 42])
      await assert.rejects(q.schedule(id as never, { every: 1000 }, template), /^ValidationError: id/);
    await assert.rejects(q.unschedule(''), /^ValidationError: id/);
  });
});

describe('schedule', () => {
  test('the same spec again changes nothing; every ticks sit on a grid of the interval', async () => {
    const q = queue('same');
    const first = await q.schedule('s', { every: 250 }, { name: 'n', data: { v: 1 } });
    assert.equal(first.changed, true);
    assert.equal(first.next % 250, 0);
    const again = await q.schedule('s', { every: 250 }, { name: 'n', data: { v: 1 } });
    assert.deepEqual(again, { next: first.next, changed: false });
    const [info] = await q.schedules();
    assert.equal(info?.id, 's');
    assert.deepEqual(info?.repeat, { every: 250 });
    assert.deepEqual(info?.template, { name: 'n', data: { v: 1 }, opts: {} });
    assert.equal(info?.next, first.next);
    assert.equal(info?.catchUp, 'one');
  });

  test('a scheduled job carries the template, merged with the queue defaults', async () => {
    const q = queue('template', { defaultJobOptions: { attempts: 3 } });
    await q.schedule(
      's',
      { every: 100 },
      { name: 'scan', data: { region: 'eu' }, opts: { priority: 5 } },
      { limit: 1 },
    );
    scheduler(q);
    await waitFor('the job', async () => (await ticksMade(raw, q, 's')).length === 1, 5000);
    const [tick] = await ticksMade(raw, q, 's');
    const job = await q.getJob(`sched:s:${tick}`);
    assert.equal(job?.name, 'scan');
    assert.deepEqual(job?.data, { region: 'eu' });
    assert.deepEqual(job?.opts, { attempts: 3, priority: 5 });
    assert.equal(job?.state, 'waiting');
  });

  test('the template delay and group are honoured: a delayed job, a grouped job a worker runs', async () => {
    const q = queue('opts');
    await q.schedule('late', { every: 100 }, { name: 'n', opts: { delay: 60_000 } }, { limit: 1 });
    await q.schedule(
      'grouped',
      { every: 100 },
      { name: 'g', data: 'tenant', opts: { group: 'w1' } },
      { limit: 1 },
    );
    const ran: { data: unknown; group: unknown }[] = [];
    const w = new Worker(q.name, async (job) => void ran.push({ data: job.data, group: job.opts.group }), {
      connection: redis.url,
      logger: quiet,
    });
    closers.push(() => w.close());
    await waitFor('the grouped job to run', () => ran.length === 1, 5000);
    assert.deepEqual(ran, [{ data: 'tenant', group: 'w1' }]);
    const [late] = await ticksMade(raw, q, 'late');
    assert.equal((await q.getJob(`sched:late:${late}`))?.state, 'delayed');
  });

  test('limit: exactly that many jobs, on consecutive ticks, then the schedule is gone', async () => {
    const q = queue('limit');
    await q.schedule('s', { every: 100 }, { name: 'n' }, { limit: 3 });
    scheduler(q);
    await waitFor('the schedule to end', async () => (await q.schedules()).length === 0, 5000);
    await sleep(300);
    const ticks = await ticksMade(raw, q, 's');
    assert.equal(ticks.length, 3);
    assertConsecutive(ticks, 100, 'limit');
  });

  test('startAt and endAt: ticks from the first to the last inclusive, then the schedule is gone', async () => {
    const q = queue('window');
    const startAt = Math.ceil(((await redisNow(raw)) + 400) / 100) * 100 + 50; // off the epoch grid on purpose
    const endAt = startAt + 450;
    const { next } = await q.schedule('s', { every: 100 }, { name: 'n' }, { startAt, endAt });
    assert.equal(next, startAt);
    scheduler(q);
    await waitFor('the schedule to end', async () => (await q.schedules()).length === 0, 5000);
    assert.deepEqual(
      await ticksMade(raw, q, 's'),
      [0, 100, 200, 300, 400].map((d) => startAt + d),
    );
  });

  test('cron in a time zone: the next tick is 09:00 in that zone', async () => {
    const q = queue('cron-tz');
    const now = Date.now();
    for (const tz of ['America/New_York', 'Asia/Kolkata', 'Australia/Adelaide']) {
      const { next } = await q.schedule(tz, { cron: '0 9 * * *', tz }, { name: 'n' });
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: tz,
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }).format(next);
      assert.equal(local, '09:00:00', tz);
      assert.ok(next > now && next <= now + 25 * 3600_000, `${tz}: ${new Date(next).toISOString()}`);
    }
    const nexts = (await q.schedules()).map((s) => s.next);
    assert.equal(new Set(nexts).size, 3, 'three zones, three different instants');
  });

  test('cron with seconds fires once per second, on whole seconds', async () => {
    const q = queue('cron-fire');
    await q.schedule('s', { cron: '* * * * * *', tz: 'Asia/Kolkata' }, { name: 'n' }, { limit: 2 });
    scheduler(q);
    await waitFor('the schedule to end', async () => (await q.schedules()).length === 0, 6000);
    const ticks = await ticksMade(raw, q, 's');
    assert.equal(ticks.length, 2);
    assert.equal(ticks[0]! % 1000, 0);
    assertConsecutive(ticks, 1000, 'cron');
  });

  test('a tick read before an update is not fired with the old spec: one job, the new data', async () => {
    const q = queue('update');
    const s = scheduler(q, false);
    const { next: tick } = await q.schedule('s', { every: 200 }, { name: 'n', data: { v: 1 } });
    while ((await redisNow(raw)) < tick) await sleep(10);
    const stale = await s.readDue();
    assert.equal(stale.items.length, 1, 'the tick is due');
    const updated = await q.schedule('s', { every: 200 }, { name: 'n', data: { v: 2 } });
    assert.deepEqual(updated, { next: tick, changed: true }, 'the due, unfired tick stays the next one');
    assert.deepEqual(await s.fire(stale), { due: 1, advanced: 0, made: 0 }, 'the stale read fires nothing');
    assert.deepEqual(await s.fire(await s.readDue()), { due: 1, advanced: 1, made: 1 });
    assert.deepEqual(await ticksMade(raw, q, 's'), [tick]);
    assert.deepEqual((await q.getJob(`sched:s:${tick}`))?.data, { v: 2 });
  });

  test('a fire call replayed (a resent command) makes nothing the second time', async () => {
    const q = queue('replay');
    const s = scheduler(q, false);
    const { next: tick } = await q.schedule('s', { every: 200 }, { name: 'n' });
    while ((await redisNow(raw)) < tick) await sleep(10);
    const due = await s.readDue();
    assert.equal((await s.fire(due)).made, 1);
    assert.deepEqual(await s.fire(due), { due: 1, advanced: 0, made: 0 });
    assert.deepEqual(await ticksMade(raw, q, 's'), [tick]);
  });

  test('a scheduler that dies holding claims only delays its ticks: another fires them once the claims lapse', async () => {
    const q = queue('claim');
    const dead = scheduler(q, false);
    const { next: tick } = await q.schedule('s', { every: 200 }, { name: 'n' }, { limit: 1 });
    while ((await redisNow(raw)) < tick) await sleep(10);
    assert.equal((await dead.readDue()).items.length, 1, 'claimed, never fired');
    const claimedAt = Date.now();
    scheduler(q);
    await waitFor('the tick to fire', async () => (await ticksMade(raw, q, 's')).length === 1, 6000);
    assert.ok(Date.now() - claimedAt >= 1500, 'not before the claim lapsed');
    assert.deepEqual(await ticksMade(raw, q, 's'), [tick]);
  });

  test('changing the interval while schedulers run: no tick twice, no stray job', async () => {
    const q = queue('change');
    await q.schedule('s', { every: 100 }, { name: 'n', data: 100 });
    for (let i = 0; i < 3; i++) scheduler(q);
    await sleep(600);
    await q.schedule('s', { every: 300 }, { name: 'n', data: 300 });
    const changedAt = await redisNow(raw);
    await sleep(1200);
    await q.unschedule('s');
    const ticks = await ticksMade(raw, q, 's');
    assert.equal(new Set(ticks).size, ticks.length);
    const before = ticks.filter((t) => t < changedAt - 100);
    const afterChange = ticks.filter((t) => t > changedAt + 100);
    assertConsecutive(before, 100, 'before the change');
    assertConsecutive(afterChange, 300, 'after the change');
    for (const t of afterChange) {
      assert.equal(t % 300, 0);
      assert.equal((await q.getJob(`sched:s:${t}`))?.data, 300);
    }
    assert.ok(
      before.length >= 3 && afterChange.length >= 2,
      `${before.length} before, ${afterChange.length} after`,
    );
  });

  test('unschedule removes it at once: no job after it resolves', async () => {
    const q = queue('unschedule');
    await q.schedule('s', { every: 100 }, { name: 'n' });
    scheduler(q);
    await waitFor('a few jobs', async () => (await ticksMade(raw, q, 's')).length >= 3, 5000);
    assert.equal(await q.unschedule('s'), true);
    const made = (await ticksMade(raw, q, 's')).length;
    await sleep(400);
    assert.equal((await ticksMade(raw, q, 's')).length, made);
    assert.deepEqual(await q.schedules(), []);
    assert.equal(await q.unschedule('s'), false);
  });

  test('four schedulers racing on twenty schedules: every tick makes exactly one job', async () => {
    const q = queue('race');
    for (let i = 0; i < 20; i++) await q.schedule(`s${i}`, { every: 100 }, { name: 'n', data: i });
    for (let i = 0; i < 4; i++) scheduler(q);
    await sleep(2000);
    for (let i = 0; i < 20; i++) await q.unschedule(`s${i}`);
    for (let i = 0; i < 20; i++) {
      const ticks = await ticksMade(raw, q, `s${i}`);
      assert.ok(ticks.length >= 15, `s${i} made ${ticks.length}`);
      assertConsecutive(ticks, 100, `s${i}`);
    }
  });

  test('workers run the scheduler unless told not to, and process the jobs it makes', async () => {
    const q = queue('worker');
    const seen: unknown[] = [];
    const off = new Worker(q.name, async (job) => void seen.push(job.data), {
      connection: redis.url,
      logger: quiet,
      schedules: false,
    });
    closers.push(() => off.close());
    await q.schedule('s', { every: 100 }, { name: 'n', data: 'hello' }, { limit: 2 });
    await sleep(500);
    assert.equal((await ticksMade(raw, q, 's')).length, 0, 'schedules: false makes no job');
    const on = new Worker(q.name, async (job) => void seen.push(job.data), {
      connection: redis.url,
      logger: quiet,
    });
    closers.push(() => on.close());
    await waitFor('two jobs processed', () => seen.length === 2, 5000);
    assert.deepEqual(seen, ['hello', 'hello']);
  });

  test('obliterate removes the schedules too', async () => {
    const q = queue('obliterate');
    await q.schedule('s', { every: 1000 }, { name: 'n' });
    await q.obliterate();
    assert.deepEqual(await q.schedules(), []);
  });
});
