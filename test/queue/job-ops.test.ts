import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Job,
  JobStateError,
  Queue,
  ValidationError,
  Worker,
  type WorkerOptions,
} from '../../src/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture();
let n = 0;

const queue = () => fx.track(new Queue(`jo-${++n}`, { connection: fx.url, metrics: false }));
const worker = <D>(q: Queue, handler: (job: Job<D>) => unknown, opts: WorkerOptions = {}) =>
  fx.track(new Worker<D>(q.name, handler, { connection: fx.url, metrics: false, schedules: false, ...opts }));

async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}
const stateOf = async (q: Queue, id: string) => (await q.getJob(id))?.state;

describe('changing a job after add', () => {
  test('updateData: the next attempt sees the new data; bad input writes nothing', async () => {
    const q = queue();
    const id = await q.add('j', { v: 1 }, { priority: 3 });
    await q.updateData(id, { v: 2 });
    const job = await q.getJob(id);
    assert.deepEqual(job?.data, { v: 2 });
    assert.equal(job?.opts.priority, 3, 'options kept');
    await assert.rejects(q.updateData('nope', {}), JobStateError);
    await assert.rejects(q.updateData(id, { f: Number.NaN } as never), ValidationError);
    const seen: unknown[] = [];
    worker(q, (j) => seen.push(j.data));
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [{ v: 2 }]);
  });

  test('changePriority reorders waiting jobs (grouped ones too) and refuses finished ones', async () => {
    const q = queue();
    const a = await q.add('a', 'a');
    const b = await q.add('b', 'b');
    const c = await q.add('c', 'c');
    const g1 = await q.add('g1', 'g1', { group: 'x' });
    const g2 = await q.add('g2', 'g2', { group: 'x' });
    await q.changePriority(c, 10);
    await q.changePriority(g2, 5);
    assert.equal((await q.getJob(c))?.opts.priority, 10);
    const waiting = (await q.getJobs('waiting')).map((j) => j.id);
    assert.deepEqual(waiting.slice(0, 3), [c, a, b]);
    const d = await q.add('d', 'd', { delay: 60_000, priority: 2 });
    await q.changePriority(d, 0);
    assert.equal((await q.getJob(d))?.opts.priority, undefined);
    await assert.rejects(q.changePriority(a, 1001), ValidationError);
    const order: string[] = [];
    worker<string>(q, (j) => order.push(j.data), { concurrency: 1, prefetch: 0 });
    await until(() => order.length === 5);
    assert.deepEqual(
      order.filter((x) => !x.startsWith('g')),
      ['c', 'a', 'b'],
    );
    assert.deepEqual(
      order.filter((x) => x.startsWith('g')),
      ['g2', 'g1'],
      'the prioritized grouped job runs first in its group',
    );
    await until(async () => (await stateOf(q, a)) === 'completed');
    await assert.rejects(q.changePriority(a, 1), /active or finished/);
    void g1;
  });

  test('changeDelay moves a delayed job; a waiting one is refused', async () => {
    const q = queue();
    const id = await q.add('j', {}, { delay: 60_000 });
    const before = (await q.getJob(id))?.delayUntil ?? 0;
    await q.changeDelay(id, 120_000);
    assert.ok(((await q.getJob(id))?.delayUntil ?? 0) > before + 50_000);
    const ran: string[] = [];
    worker(q, (j) => ran.push(j.id));
    await q.changeDelay(id, 0);
    await until(() => ran.length === 1);
    const waiting = await q.add('w', {}, { delay: 0 });
    await until(async () => (await stateOf(q, waiting)) === 'completed');
    await assert.rejects(q.changeDelay(waiting, 10), /not delayed/);
    await assert.rejects(q.changeDelay(id, -1), ValidationError);
  });

  test('retry of a completed job runs it again; logs read by page', async () => {
    const q = queue();
    let runs = 0;
    worker(q, async (j) => {
      runs++;
      for (let i = 1; i <= 10; i++) await j.log(`line ${i}`);
      return runs;
    });
    const id = await q.add('j', {});
    await until(async () => (await stateOf(q, id)) === 'completed');
    await assert.rejects(q.retry(id), /not in the failed set/);
    await q.retry(id, { state: 'completed' });
    await until(async () => runs === 2 && (await stateOf(q, id)) === 'completed');
    assert.equal((await q.getJob(id))?.returnValue, 2);
    const page = await q.getJobLogs(id, 2, 4);
    assert.equal(page.count, 20);
    assert.deepEqual(page.logs, ['line 3', 'line 4', 'line 5']);
    const newest = await q.getJobLogs(id, 0, 1, { asc: false });
    assert.deepEqual(newest.logs, ['line 10', 'line 9']);
    await assert.rejects(q.retry(id, { state: 'active' as never }), ValidationError);
  });
});

describe('handlers deciding when a job runs again', () => {
  test('custom backoff strategy; undefined falls back to the job backoff', async () => {
    const q = queue();
    const times: number[] = [];
    worker(
      q,
      () => {
        times.push(Date.now());
        throw new Error('again');
      },
      { backoffStrategy: (attempts) => (attempts === 1 ? 400 : undefined) },
    );
    const id = await q.add('j', {}, { attempts: 3, backoff: 10 });
    await until(async () => (await stateOf(q, id)) === 'failed');
    assert.equal(times.length, 3);
    assert.ok(times[1]! - times[0]! >= 390, `custom gap ${times[1]! - times[0]!}`);
    assert.ok(times[2]! - times[1]! < 300, `fallback gap ${times[2]! - times[1]!}`);
    assert.throws(() => new Worker(q.name, () => 1, { backoffStrategy: 5 as never }), /backoffStrategy/);
  });

  test('snooze: the job runs again later without using an attempt', async () => {
    const q = queue();
    const times: number[] = [];
    const failed: string[] = [];
    const w = worker(q, (j) => {
      times.push(Date.now());
      if (times.length < 3) throw j.snooze(150);
      return j.attemptsMade;
    });
    w.on('failed', (j) => failed.push(j.id));
    const id = await q.add('j', {}, { attempts: 1 });
    await until(async () => (await stateOf(q, id)) === 'completed');
    assert.equal(times.length, 3);
    assert.ok(times[1]! - times[0]! >= 140, `snoozed ${times[1]! - times[0]!} ms`);
    const job = await q.getJob(id);
    assert.equal(job?.attemptsMade, 0);
    assert.equal(job?.returnValue, 0);
    assert.deepEqual(failed, [], 'a snooze is not a failure');
  });

  test('rateLimit: the job goes back first and no worker starts a job until the limit ends', async () => {
    const q = queue();
    const starts: { id: string; at: number }[] = [];
    let limitedAt = 0;
    worker(
      q,
      (j) => {
        starts.push({ id: j.id, at: Date.now() });
        if (!limitedAt) {
          limitedAt = Date.now();
          throw j.rateLimit(1000);
        }
      },
      { concurrency: 1, prefetch: 0 },
    );
    const other = fx.track(
      new Worker(q.name, (j) => starts.push({ id: j.id, at: Date.now() }), {
        connection: fx.url,
        metrics: false,
        schedules: false,
        autorun: false,
      }),
    );
    const first = await q.add('j', 1);
    // The limit holds from when the attempt's end reaches Redis (the job is back in line),
    // not from the throw: wait for that before anything else may start.
    await until(async () => limitedAt > 0 && (await stateOf(q, first)) === 'waiting');
    await q.addBulk([2, 3, 4].map((d) => ({ name: 'j', data: d })));
    // First in line: two workers then start jobs side by side, so start order across
    // them is not the line's order; the line itself is.
    const line = (await q.getJobs('waiting')).map((j) => j.id);
    assert.equal(line[0], first, 'the limited job is first in line');
    assert.equal(line.length, 4);
    other.run();
    await until(async () => (await q.getCounts()).completed === 4);
    const after = starts.slice(1);
    assert.equal(after.length, 4);
    for (const s of after)
      assert.ok(s.at - limitedAt >= 900, `a start ${s.at - limitedAt} ms after the limit`);
    assert.equal((await q.getJob(first))?.attemptsMade, 0);
  });
});

describe('manual fetch, complete and fail (custom consumers)', () => {
  test('getNextJob leases a job; completeJob and failJob store the outcome; none waiting gives undefined', async () => {
    const q = queue();
    const w = fx.track(
      new Worker<{ n: number }, number>(q.name, null, {
        connection: fx.url,
        metrics: false,
        schedules: false,
      }),
    );
    assert.equal(await w.getNextJob(), undefined);
    const a = await q.add('a', { n: 1 });
    const b = await q.add('b', { n: 2 }, { attempts: 2, backoff: 10 });
    const ja = await w.getNextJob();
    assert.equal(ja?.id, a);
    assert.equal(await stateOf(q, a), 'active');
    assert.equal((await q.getCounts()).active, 1);
    await w.completeJob(ja!, ja!.data.n * 10);
    assert.equal((await q.getJob(a))?.returnValue, 10);
    await assert.rejects(w.completeJob(ja!, 1), JobStateError);
    const jb = await w.getNextJob();
    await w.failJob(jb!, new Error('first try'));
    const retried = await q.getJob(b);
    assert.equal(retried?.attemptsMade, 1);
    const again = await w.getNextJob({ block: 2000 });
    assert.equal(again?.id, b);
    await w.failJob(again!, new Error('for good'), { unrecoverable: true });
    assert.equal(await stateOf(q, b), 'failed');
    const blockedFor = Date.now();
    assert.equal(await w.getNextJob({ block: 200 }), undefined);
    assert.ok(Date.now() - blockedFor >= 150);
    const auto = worker(q, () => 1);
    await assert.rejects(auto.getNextJob(), /manual worker/);
  });
});
