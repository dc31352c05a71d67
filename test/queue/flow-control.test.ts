import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JobInfo, type Queue, ValidationError } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import {
  killWorkerProcesses,
  startWorkerProcess,
  type WorkerProcess,
  waitFor,
} from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });
const queue = fx.queue.bind(fx);
const worker = fx.worker.bind(fx);
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopper-flow-'));
});
afterEach(() => killWorkerProcesses());
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Four worker processes on one queue (each `concurrency` slots, each job `jobMs` long). */
function processes(q: Queue, concurrency: number, jobMs: number): Promise<WorkerProcess[]> {
  return Promise.all(
    [1, 2, 3, 4].map((i) =>
      startWorkerProcess({
        REDIS_URL: fx.url,
        QUEUE: q.name,
        LOG: join(dir, `${q.name}-${i}.log`),
        CONCURRENCY: String(concurrency),
        MODE: 'slow',
        JOB_MS: String(jobMs),
      }),
    ),
  );
}

async function allCompleted(q: Queue, ids: string[], ms = 30_000): Promise<JobInfo[]> {
  await waitFor(
    `${ids.length} jobs completed`,
    async () => (await q.getCounts()).completed === ids.length,
    ms,
  );
  return Promise.all(ids.map(async (id) => (await q.getJob(id))!));
}

/** Most starts (Redis-clock processedOn) inside any window of `duration` ms. */
function busiestWindow(starts: number[], duration: number): number {
  const s = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= duration) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Most jobs active at once, from [processedOn, finishedOn) intervals (an end comes before a start at the same ms). */
function mostAtOnce(jobs: JobInfo[]): number {
  const events = jobs.flatMap((j) => [
    [j.processedOn!, 1],
    [j.finishedOn!, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, d] of events) {
    now += d!;
    most = Math.max(most, now);
  }
  return most;
}

describe('queue limits across worker processes', () => {
  test('rate limit: no window of the duration ever holds more than max job starts', async () => {
    const q = queue('rate');
    await q.setLimits({ rate: { max: 10, duration: 500 } });
    const ids = await q.addBulk(Array.from({ length: 60 }, (_, i) => ({ name: 'scan', data: { i } })));
    await processes(q, 5, 5);
    const jobs = await allCompleted(q, ids);
    const starts = jobs.map((j) => j.processedOn!);
    assert.ok(busiestWindow(starts, 500) <= 10, `a 500 ms window held ${busiestWindow(starts, 500)} starts`);
    // 60 jobs at 10 per 500 ms cannot all start in under 2.5 s: the limit really held them back.
    const span = Math.max(...starts) - Math.min(...starts);
    assert.ok(span >= 2500, `60 starts spread over only ${span} ms`);
  });

  test('global concurrency: never more jobs active at once than the limit, and the limit is reached', async () => {
    const q = queue('conc');
    await q.setLimits({ concurrency: 3 });
    const ids = await q.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'scan', data: { i } })));
    await processes(q, 5, 40);
    const jobs = await allCompleted(q, ids);
    assert.equal(mostAtOnce(jobs), 3);
  });

  test('per-group concurrency holds for every group while groups run in parallel', async () => {
    const q = queue('gconc');
    await q.setLimits({ group: { concurrency: 2 } });
    const ids = await q.addBulk(
      Array.from({ length: 60 }, (_, i) => ({
        name: 'audit',
        data: { i },
        opts: { group: `wallet-${i % 6}` },
      })),
    );
    await processes(q, 6, 30);
    const jobs = await allCompleted(q, ids);
    for (let g = 0; g < 6; g++) {
      const mine = jobs.filter((j) => j.opts.group === `wallet-${g}`);
      assert.equal(mine.length, 10);
      assert.ok(mostAtOnce(mine) <= 2, `wallet-${g} ran ${mostAtOnce(mine)} jobs at once`);
    }
    assert.ok(mostAtOnce(jobs) > 2, 'groups ran in parallel with each other');
  });

  test('per-group rate limit holds in every window, for each group', async () => {
    const q = queue('grate');
    await q.setLimits({ group: { rate: { max: 3, duration: 300 } } });
    const ids = await q.addBulk(
      Array.from({ length: 24 }, (_, i) => ({
        name: 'alert',
        data: { i },
        opts: { group: `user-${i % 2}` },
      })),
    );
    await processes(q, 4, 1);
    const jobs = await allCompleted(q, ids);
    for (const g of ['user-0', 'user-1']) {
      const starts = jobs.filter((j) => j.opts.group === g).map((j) => j.processedOn!);
      assert.ok(busiestWindow(starts, 300) <= 3, `${g}: ${busiestWindow(starts, 300)} starts in 300 ms`);
      const span = Math.max(...starts) - Math.min(...starts);
      assert.ok(span >= 900, `${g}: 12 starts at 3 per 300 ms spread over only ${span} ms`);
    }
  });
});

describe('groups', () => {
  test('1,000 groups and one hot group: every other group starts before the hot group gets far ahead', async () => {
    const q = queue('fair');
    const hot = await q.addBulk(
      Array.from({ length: 3000 }, () => ({ name: 'hot', data: 0, opts: { group: 'hot' } })),
    );
    const others = await q.addBulk(
      Array.from({ length: 999 }, (_, i) => ({ name: 'other', data: i, opts: { group: `g${i}` } })),
    );
    const order: string[] = [];
    const waits: number[] = [];
    worker(
      q,
      (job) => {
        order.push(job.opts.group === 'hot' ? 'hot' : 'other');
        if (job.opts.group !== 'hot') waits.push(Date.now() - job.timestamp);
      },
      { concurrency: 20 },
    );
    await waitFor('all jobs run', () => order.length === hot.length + others.length, 60_000);
    const lastOther = order.lastIndexOf('other');
    const hotBefore = order.slice(0, lastOther).filter((o) => o === 'hot').length;
    // Strict FIFO would run all 3,000 hot jobs first; round-robin gives the hot group one turn per round.
    assert.ok(hotBefore <= 100, `${hotBefore} hot jobs ran before the last other group's job`);
    const hotTail = order.length - lastOther - 1;
    assert.ok(hotTail >= 2800, `the hot group's backlog runs last (${hotTail} after the others)`);
    console.log(`# other groups' wait: max ${Math.max(...waits)} ms for 999 groups behind a 3,000-job group`);
  });

  test('jobs within a group run by priority, then in order', async () => {
    const q = queue('gprio');
    await q.pauseGroup('a'); // holds the group while the jobs are added
    const ids = [
      await q.add('j', 1, { group: 'a' }),
      await q.add('j', 2, { group: 'a', priority: 5 }),
      await q.add('j', 3, { group: 'a' }),
      await q.add('j', 4, { group: 'a', priority: 5 }),
    ];
    const seen: number[] = [];
    worker<number>(q, (job) => {
      seen.push(job.data);
    });
    await sleep(200);
    assert.deepEqual(seen, [], 'a paused group starts nothing');
    assert.deepEqual(await q.getGroup('a'), { waiting: 4, active: 0, paused: true, limits: {} });
    await q.resumeGroup('a');
    await allCompleted(q, ids, 5000);
    assert.deepEqual(seen, [2, 4, 1, 3]);
  });

  test("a group's waiting line: listed, counted, removed from any place, drained", async () => {
    const q = queue('gline');
    await q.pauseGroup('a'); // holds the group while the line is inspected
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await q.add('j', i, { group: 'a' }));
    const urgent = await q.add('j', 6, { group: 'b', priority: 3 });
    await q.pauseGroup('b');
    assert.equal((await q.getCounts()).waiting, 6);
    // Prioritized grouped jobs are listed before the groups' lines; a page skips into the line.
    assert.deepEqual(
      (await q.getJobs('waiting')).map((j) => j.id),
      [urgent, ...ids],
    );
    assert.deepEqual(
      (await q.getJobs('waiting', 2, 3)).map((j) => j.id),
      [ids[1], ids[2]],
    );
    for (const id of [ids[2]!, ids[0]!, ids[4]!, urgent]) assert.equal(await q.remove(id), true);
    assert.equal(await q.remove(ids[2]!), false);
    assert.deepEqual(
      (await q.getJobs('waiting')).map((j) => j.id),
      [ids[1], ids[3]],
    );
    assert.equal((await q.getGroup('a')).waiting, 2);
    assert.equal((await q.getGroup('b')).waiting, 0);
    const seen: number[] = [];
    worker<number>(q, (job) => {
      seen.push(job.data);
    });
    await q.resumeGroup('a');
    await waitFor('what is left of the line ran', () => seen.length === 2, 5000);
    assert.deepEqual(seen, [2, 4], 'the line kept its order around the removed jobs');
    await q.add('j', 7, { group: 'a' }); // a line emptied by fetch starts again
    await waitFor('a new job in the emptied line ran', () => seen.length === 3, 5000);

    // Drain takes lines longer than one drain call (5,000), and prioritized grouped jobs.
    const d = queue('gdrain');
    await d.pauseGroup('big');
    for (let i = 0; i < 6000; i += 1000)
      await d.addBulk(
        Array.from({ length: 1000 }, (_, j) => ({ name: 'j', data: i + j, opts: { group: 'big' } })),
      );
    await d.add('j', -1, { group: 'big', priority: 2 });
    await d.add('j', -2, { group: 'small' });
    assert.equal(await d.drain(), 6002);
    assert.equal((await d.getCounts()).waiting, 0);
    assert.equal((await d.getGroup('big')).waiting, 0);
    assert.deepEqual(await d.getJobs('waiting'), []);
    await d.resumeGroup('big');
    const after = await d.add('j', 1, { group: 'big' });
    worker(d, () => 'ok');
    await allCompleted(d, [after], 5000);
  });

  test('pausing one group holds only that group; its jobs stay waiting, not failed', async () => {
    const q = queue('gpause');
    await q.pauseGroup('tenant-a');
    const a = await q.add('bill', {}, { group: 'tenant-a' });
    const b = await q.add('bill', {}, { group: 'tenant-b' });
    const plain = await q.add('bill', {});
    worker(q, () => 'ok');
    await waitFor('b and the ungrouped job', async () => (await q.getCounts()).completed === 2);
    assert.equal((await q.getJob(a))!.state, 'waiting');
    assert.equal((await q.getJob(b))!.state, 'completed');
    assert.equal((await q.getJob(plain))!.state, 'completed');
    await q.resumeGroup('tenant-a');
    await waitFor('a after resume', async () => (await q.getJob(a))?.state === 'completed');
  });

  test('pauseGroup reaches jobs a worker already reserved: once it resolves, none of the group starts', async () => {
    const q = queue('gpause-reserved');
    const ids = await q.addBulk(
      Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: i, opts: { group: 'a' } })),
    );
    const other = await q.add('j', 'b', { group: 'b' });
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const started: unknown[] = [];
    worker(
      q,
      async (job) => {
        started.push(job.data);
        if (job.data === 0) await gate;
      },
      { concurrency: 1, prefetch: 10 },
    );
    // The first job holds the only slot; the others wait reserved in the worker.
    await waitFor('jobs reserved', async () => (await q.getCounts()).reserved >= 5);
    await q.pauseGroup('a');
    open();
    await waitFor('b runs', async () => (await q.getJob(other))?.state === 'completed');
    await sleep(300);
    assert.deepEqual(
      started.filter((d) => d !== 'b'),
      [0],
      'no job of the paused group started after pauseGroup resolved',
    );
    const group = await q.getGroup('a');
    assert.equal(group.waiting, 5, 'its reserved jobs went back in line');
    await q.resumeGroup('a');
    await waitFor('the group after resume', async () =>
      (await Promise.all(ids.map((id) => q.getJob(id)))).every((j) => j?.state === 'completed'),
    );
    assert.deepEqual(
      started.filter((d) => d !== 'b'),
      [0, 1, 2, 3, 4, 5],
      'in their order',
    );
  });

  test('each pauseGroup recalls reserved jobs after the last one (its time only grows); pausing a paused group recalls nothing', async () => {
    const q = queue('gpause-time');
    await q.pauseGroup('a');
    // Two pauses within one millisecond, or a clock stepped back: the recall time still grows,
    // so a fetch made between them is recalled by the second.
    const ahead = Date.now() + 3_600_000;
    await fx.raw.hset(q.keys.meta, 'gpt', ahead);
    await q.pauseGroup('b');
    assert.equal(Number(await fx.raw.hget(q.keys.meta, 'gpt')), ahead + 1);
    await q.pauseGroup('b'); // already paused
    assert.equal(Number(await fx.raw.hget(q.keys.meta, 'gpt')), ahead + 1);
  });

  test('a group with its own limit overrides the default; retries stay in their group', async () => {
    const q = queue('gown');
    await q.setLimits({ group: { concurrency: 5 } });
    await q.setGroupLimits('solo', { concurrency: 1 });
    assert.deepEqual((await q.getGroup('solo')).limits, { concurrency: 1 });
    const ids = await q.addBulk(
      Array.from({ length: 8 }, (_, i) => ({
        name: 'j',
        data: i,
        opts: { group: 'solo', attempts: 2, backoff: 10 },
      })),
    );
    let running = 0;
    let most = 0;
    const failedOnce = new Set<string>();
    worker(
      q,
      async (job) => {
        most = Math.max(most, ++running);
        await sleep(10);
        running--;
        if (!failedOnce.has(job.id)) {
          failedOnce.add(job.id);
          throw new Error('first attempt fails');
        }
      },
      { concurrency: 8 },
    );
    const jobs = await allCompleted(q, ids, 10_000);
    assert.equal(most, 1);
    assert.ok(jobs.every((j) => j.attemptsMade === 1));
    assert.deepEqual(await q.getGroup('solo'), {
      waiting: 0,
      active: 0,
      paused: false,
      limits: { concurrency: 1 },
    });
  });

  test('grouped and ungrouped jobs in one queue both make progress', async () => {
    const q = queue('gmix');
    await q.addBulk(Array.from({ length: 200 }, () => ({ name: 'g', data: 'g', opts: { group: 'busy' } })));
    await q.addBulk(Array.from({ length: 200 }, () => ({ name: 'u', data: 'u' })));
    const order: string[] = [];
    worker<string>(q, (job) => {
      order.push(job.data);
    });
    await waitFor('all ran', () => order.length === 400, 20_000);
    const firstHalf = order.slice(0, 200);
    assert.ok(firstHalf.filter((x) => x === 'u').length >= 50, 'ungrouped jobs were not starved');
    assert.ok(firstHalf.filter((x) => x === 'g').length >= 50, 'grouped jobs were not starved');
  });

  test('a killed worker process gives its grouped job back; the group slot is freed', async () => {
    const q = queue('gkill');
    await q.setLimits({ group: { concurrency: 1 } });
    const child = await startWorkerProcess({
      REDIS_URL: fx.url,
      QUEUE: q.name,
      LOG: join(dir, `${q.name}.log`),
      MODE: 'hang',
      LEASE_MS: '500',
    });
    const first = await q.add('j', 1, { group: 'w' });
    const second = await q.add('j', 2, { group: 'w' });
    await waitFor('the child holds the first job', async () => (await q.getJob(first))?.state === 'active');
    child.kill9();
    worker(q, () => 'done', { leaseMs: 500 });
    await allCompleted(q, [first, second], 15_000);
    assert.equal((await q.getJob(first))!.stalls, 1);
    assert.deepEqual(await q.getGroup('w'), { waiting: 0, active: 0, paused: false, limits: {} });
  });
});

describe('bad limits and groups', () => {
  test('a typed error names the field and nothing is stored', async () => {
    const q = queue('bad');
    const cases: [() => Promise<unknown>, string][] = [
      [() => q.setLimits({ concurrency: 0 }), 'limits.concurrency'],
      [() => q.setLimits({ rate: { max: 0, duration: 1000 } }), 'limits.rate.max'],
      [() => q.setLimits({ rate: { max: 5, duration: -1 } }), 'limits.rate.duration'],
      [() => q.setLimits({ group: { concurrency: -2 } }), 'limits.group.concurrency'],
      [() => q.setGroupLimits('g', { rate: { max: 1.5, duration: 10 } }), 'limits.rate.max'],
      [() => q.setGroupLimits('x'.repeat(129), { concurrency: 1 }), 'group'],
      [() => q.add('j', 1, { group: 'x'.repeat(129) }), 'opts.group'],
      [() => q.add('j', 1, { group: '' }), 'opts.group'],
      [() => q.add('j', 1, { group: 'a\nb' }), 'opts.group'],
    ];
    for (const [call, field] of cases) {
      await assert.rejects(
        call,
        (err: unknown) => err instanceof ValidationError && err.field === field,
        field,
      );
    }
    assert.deepEqual(await q.getLimits(), {});
    assert.equal((await q.getCounts()).waiting, 0);
  });

  test('limits read back as set, and null removes one', async () => {
    const q = queue('limits');
    await q.setLimits({ concurrency: 4, rate: { max: 100, duration: 1000 }, group: { concurrency: 1 } });
    assert.deepEqual(await q.getLimits(), {
      concurrency: 4,
      rate: { max: 100, duration: 1000 },
      group: { concurrency: 1 },
    });
    await q.setLimits({ rate: null, group: null });
    assert.deepEqual(await q.getLimits(), { concurrency: 4 });
  });
});
