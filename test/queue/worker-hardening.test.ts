import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, type Queue, ValidationError, Worker } from '../../src/index.js';
import { workerRepliesKey } from '../../src/queue/keys.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import {
  killWorkerProcesses,
  logLines,
  startWorkerProcess,
  stateOf,
  type WorkerProcess,
  waitFor,
} from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });
const tmp = mkdtempSync(join(tmpdir(), 'hopper-hardening-'));
after(async () => {
  await killWorkerProcesses();
  rmSync(tmp, { recursive: true, force: true });
});

/** A handler that holds every job until `release()`; `started` lists the jobs in the order they started. */
function gate() {
  const started: string[] = [];
  const waiting: (() => void)[] = [];
  return {
    started,
    handler: async (job: Job) => {
      started.push(job.id);
      await new Promise<void>((resolve) => waiting.push(resolve));
      return job.id;
    },
    release(n = Number.POSITIVE_INFINITY) {
      for (const resolve of waiting.splice(0, n)) resolve();
    },
  };
}

/** Adds one job and waits until it is finished in Redis, `n` times: each job needs a working acknowledgement loop. */
async function oneByOne(q: Queue, n: number, data: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = await q.add('j', data(i));
    await waitFor(`job ${i} to finish`, async () => {
      const state = (await q.getJob(id))?.state;
      return state === 'completed' || state === 'failed';
    });
  }
}

describe('listeners that throw', () => {
  test('a throwing completed, failed or drained listener is reported on error; processing goes on', async () => {
    const q = fx.queue('throwing-listeners');
    const errors: Error[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    // Without the fix the throw escapes as an unhandled rejection: catch it here so the test
    // fails on its assertions rather than crashing the runner.
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = fx.worker<{ fail: boolean }>(q, (job) => {
        if (job.data.fail) throw new Error('handler failed on purpose');
        return 'ok';
      });
      w.on('error', (e: Error) => errors.push(e));
      w.on('completed', () => {
        throw new Error('completed listener broke');
      });
      w.on('failed', () => {
        throw new Error('failed listener broke');
      });
      w.on('drained', () => {
        throw new Error('drained listener broke');
      });
      await oneByOne(q, 6, (i) => ({ fail: i % 2 === 1 }));
      const counts = await q.getCounts();
      assert.equal(counts.completed, 3);
      assert.equal(counts.failed, 3);
      assert.equal(counts.active, 0);
      await waitFor('the drained listener error', () =>
        errors.some((e) => /drained listener/.test(e.message)),
      );
      const messages = new Set(errors.map((e) => e.message));
      assert.ok(
        [...messages].some((m) => /completed listener broke/.test(m)),
        `errors: ${[...messages]}`,
      );
      assert.ok(
        [...messages].some((m) => /failed listener broke/.test(m)),
        `errors: ${[...messages]}`,
      );
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('an error listener that throws does not stop the worker either', async () => {
    const q = fx.queue('throwing-error-listener');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = fx.worker(q, () => 'ok');
      w.on('completed', () => {
        throw new Error('completed listener broke');
      });
      w.on('error', () => {
        throw new Error('error listener broke too');
      });
      await oneByOne(q, 3, () => ({}));
      assert.equal((await q.getCounts()).completed, 3);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('worker options', () => {
  const base = (url: string) => ({ connection: url, autorun: false });
  const bad: [string, (url: string) => Worker][] = [
    ['handler', (url) => new Worker('q', undefined as unknown as (job: Job) => unknown, base(url))],
    ['handler', (url) => new Worker('q', 'run' as unknown as (job: Job) => unknown, base(url))],
    ['options', (_url) => new Worker('q', () => 1, null as never)],
    ['concurrency', (url) => new Worker('q', () => 1, { ...base(url), concurrency: 0 })],
    ['concurrency', (url) => new Worker('q', () => 1, { ...base(url), concurrency: 1.5 })],
    ['prefetch', (url) => new Worker('q', () => 1, { ...base(url), prefetch: -1 })],
    ['leaseMs', (url) => new Worker('q', () => 1, { ...base(url), leaseMs: 50 })],
    ['leaseMs', (url) => new Worker('q', () => 1, { ...base(url), leaseMs: 2 ** 31 })],
    ['jobTimeout', (url) => new Worker('q', () => 1, { ...base(url), jobTimeout: 2 ** 31 })],
    ['maxStalls', (url) => new Worker('q', () => 1, { ...base(url), maxStalls: -1 })],
    ['prefix', (url) => new Worker('q', () => 1, { ...base(url), prefix: '' })],
    ['prefix', (url) => new Worker('q', () => 1, { ...base(url), prefix: 7 as unknown as string })],
    ['autorun', (url) => new Worker('q', () => 1, { connection: url, autorun: 'no' as unknown as boolean })],
    ['schedules', (url) => new Worker('q', () => 1, { ...base(url), schedules: 1 as unknown as boolean })],
  ];
  for (const [field, make] of bad) {
    test(`a bad ${field} throws a ValidationError naming it, before connecting`, () => {
      assert.throws(
        () => make(fx.url),
        (e: unknown) => e instanceof ValidationError && e.field === field,
      );
    });
  }
});

describe('prefetched jobs are reserved, not active', () => {
  test('getCounts reports running handlers as active and prefetched jobs as reserved', async () => {
    const q = fx.queue('reserved-counts');
    const g = gate();
    await q.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'j', data: i })));
    fx.worker(q, g.handler, { concurrency: 2, prefetch: 8 });
    await waitFor('two handlers to start', () => g.started.length === 2);
    await waitFor('2 active and 8 reserved', async () => {
      const c = await q.getCounts();
      return c.active === 2 && c.reserved === 8 && c.waiting === 10 ? c : undefined;
    });
    // One job ends, the next reserved one starts: the settle that follows reports it.
    g.release(1);
    await waitFor('3 started', () => g.started.length === 3);
    await waitFor('2 active and 7 reserved', async () => {
      const c = await q.getCounts();
      return c.active === 2 && c.reserved === 7 && c.completed === 1 ? c : undefined;
    });
    const releaseAll = setInterval(() => g.release(), 5);
    try {
      await waitFor('all 20 to complete', async () => (await q.getCounts()).completed === 20, 10_000);
    } finally {
      clearInterval(releaseAll);
    }
    assert.deepEqual(await q.getCounts(), {
      waiting: 0,
      delayed: 0,
      active: 0,
      reserved: 0,
      completed: 20,
      failed: 0,
      waitingChildren: 0,
    });
  });
});

describe('pause', () => {
  for (const priority of [0, 3]) {
    test(`no job starts after pause() resolves; prefetched ones go back in their order (priority ${priority})`, async () => {
      const q = fx.queue('pause-prefetched');
      const starts: { id: string; at: number }[] = [];
      const ids = (
        await q.addBulk(Array.from({ length: 300 }, (_, i) => ({ name: 'j', data: i, opts: { priority } })))
      ).map(String);
      fx.worker(
        q,
        async (job) => {
          starts.push({ id: job.id, at: performance.now() });
          await sleep(10);
        },
        { concurrency: 2, prefetch: 40 },
      );
      await waitFor('some jobs to run', () => starts.length >= 10);
      await q.pause();
      const pausedAt = performance.now();
      await sleep(800);
      const late = starts.filter((s) => s.at >= pausedAt);
      assert.deepEqual(late, [], `${late.length} jobs started after pause() resolved`);
      const counts = await q.getCounts();
      assert.equal(counts.active + counts.reserved, 0, JSON.stringify(counts));
      const ran = new Set(starts.map((s) => s.id));
      const waiting = (await q.getJobs('waiting', 0, 999)).map((j) => j.id);
      assert.deepEqual(
        waiting,
        ids.filter((id) => !ran.has(id)),
        'the jobs not started wait in their original order',
      );
      await q.resume();
      await waitFor('every job to complete', async () => (await q.getCounts()).completed === 300, 15_000);
    });
  }
});

describe('pause under load', () => {
  test('20,000 fast jobs at concurrency 10 (adaptive prefetch): none starts after pause() resolves', async () => {
    const q = fx.queue('pause-fast');
    const total = 20_000;
    for (let i = 0; i < total; i += 5000)
      await q.addBulk(Array.from({ length: 5000 }, (_, j) => ({ name: 'j', data: i + j })));
    let started = 0;
    let startedAfterPause = 0;
    let pausedAt = Number.POSITIVE_INFINITY;
    fx.worker(
      q,
      () => {
        started++;
        if (performance.now() >= pausedAt) startedAfterPause++;
      },
      { concurrency: 10 },
    );
    await waitFor('2,000 jobs to start', () => started >= 2000, 15_000);
    await q.pause();
    pausedAt = performance.now();
    await sleep(700);
    assert.equal(startedAfterPause, 0, `${startedAfterPause} jobs started after pause() resolved`);
    const counts = await q.getCounts();
    assert.equal(counts.active + counts.reserved, 0, JSON.stringify(counts));
    assert.equal(counts.waiting, total - started, 'every job not started waits again');
    await q.resume();
    await waitFor('every job to run', () => started === total, 30_000);
  });
});

describe('leases', () => {
  test('a worker stopped past its lease starts none of its prefetched jobs once other workers ran them', async () => {
    const q = fx.queue('stopped-prefetch');
    const log = join(tmp, `${q.name}.log`);
    let a: WorkerProcess | undefined;
    try {
      a = await startWorkerProcess({
        REDIS_URL: fx.url,
        QUEUE: q.name,
        LOG: log,
        MODE: 'slow',
        JOB_MS: '1500',
        CONCURRENCY: '1',
        PREFETCH: '5',
        LEASE_MS: '600',
      });
      const ids = (await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: i })))).map(
        String,
      );
      await waitFor('A to start one job and hold the other five', async () => {
        return logLines(log).length === 1 && (await fx.raw.hlen(q.keys.active)) === 6;
      });
      // Frozen mid-job with five jobs prefetched: a long GC, a stopped VM.
      a.proc.kill('SIGSTOP');
      const ranOnB: string[] = [];
      fx.worker(q, (job) => void ranOnB.push(job.id), { leaseMs: 600 });
      await waitFor(
        'B to complete all six',
        async () => {
          for (const id of ids) if ((await stateOf(q, id)) !== 'completed') return false;
          return true;
        },
        10_000,
      );
      a.proc.kill('SIGCONT');
      // A's running job ends (its outcome is rejected), then A must not start the five it had prefetched.
      await a.waitForLine((l) => l.startsWith('lost '), 'a lost outcome', 10_000);
      await sleep(1000);
      assert.equal(logLines(log).length, 1, `A started ${logLines(log).join(', ')}: only its first job`);
      assert.deepEqual(ranOnB.sort(), [...ids].sort(), 'B ran each job');
    } finally {
      if (a?.running) a.proc.kill('SIGCONT');
      await a?.kill9();
    }
  });

  test('jobs recorded active under a worker that does not hold them go back and run', async () => {
    const q = fx.queue('not-held');
    const ran: string[] = [];
    const w = fx.worker(q, (job) => void ran.push(job.id), { leaseMs: 900 });
    const first = await q.add('first', null);
    await waitFor('the first job to complete', async () => (await stateOf(q, first)) === 'completed');
    // What a failover that lost an acknowledgement leaves behind: a job recorded active under
    // this worker, with an old lease token, counted among the worker's jobs, that the worker
    // no longer holds.
    const lost = await q.add('lost', null, { delay: 60_000 });
    await fx.raw
      .multi()
      .zrem(q.keys.delayed, lost)
      .hset(q.keys.active, lost, `1|${w.id}|${Date.now()}`)
      .hincrby(workerRepliesKey(q.keys, w.id), 'held', 1)
      .exec();
    assert.equal(await stateOf(q, lost), 'active');
    await waitFor('the job to go back and run', async () => (await stateOf(q, lost)) === 'completed', 15_000);
    assert.deepEqual(ran, [first, lost]);
    assert.equal((await q.getJob(lost))!.stalls, 1, 'counted as a stall');
  });

  test('a lost completion is put back at the next beat even when the lost writes leave the count right', async () => {
    // A failover without durability (or an AOF replayed from before) loses the last writes
    // of a worker's calls: here its last settle, whose job Redis records active under the
    // worker again, with the settle's request mark gone. Another lost write (a fetch of as
    // many jobs) can leave the worker's `held` count right, so only the marks tell.
    const q = fx.queue('lost-settle');
    const ran: string[] = [];
    const w = fx.worker(q, (job) => void ran.push(job.id), { leaseMs: 3000 });
    const first = await q.add('first', null);
    await waitFor('the first job to complete', async () => (await stateOf(q, first)) === 'completed');
    const replies = workerRepliesKey(q.keys, w.id);
    const mark = Number(await fx.raw.hget(replies, 'settle'));
    const token = await fx.raw.hget(replies, 'token');
    await fx.raw
      .multi()
      .zrem(q.keys.completed, first)
      .hset(q.keys.active, first, `${token}|${w.id}|${Date.now()}`)
      .hset(replies, 'settle', mark - 1)
      .exec();
    assert.equal(await stateOf(q, first), 'active');
    // Beats come every second; a sweep of every job (the old backstop) only every tenth.
    await waitFor('the job to go back and run', async () => (await stateOf(q, first)) === 'completed', 4000);
    assert.deepEqual(ran, [first, first]);
  });
});
