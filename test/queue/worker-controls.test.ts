import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CancelledError,
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

const queue = () => fx.track(new Queue(`wc-${++n}`, { connection: fx.url, metrics: false }));
const worker = <D, R = unknown>(
  q: Queue,
  handler: (job: Job<D>) => R | Promise<R>,
  opts: WorkerOptions = {},
) =>
  fx.track(
    new Worker<D, R>(q.name, handler, { connection: fx.url, metrics: false, schedules: false, ...opts }),
  );

async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Handlers that wait until the test lets them go; tracks how many run at once. */
function gate() {
  let running = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  return {
    handler: async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => waiting.push(r));
      running--;
    },
    get running() {
      return running;
    },
    get peak() {
      return peak;
    },
    resetPeak() {
      peak = running;
    },
    releaseAll() {
      for (const r of waiting.splice(0)) r();
    },
  };
}

describe('worker events', () => {
  test('active when a handler starts, progress once stored, typed', async () => {
    const q = queue();
    const seen: string[] = [];
    const w = worker<{ n: number }, number>(q, async (job) => {
      await job.updateProgress(job.data.n * 10);
      return job.data.n;
    });
    w.on('active', (job) => seen.push(`active:${job.id}:${job.data.n}`));
    w.on('progress', (job, value) => seen.push(`progress:${job.id}:${value}`));
    w.on('completed', (job, result: number) => seen.push(`completed:${job.id}:${result + 0}`));
    const id = await q.add('j', { n: 4 });
    await until(() => seen.length === 3);
    assert.deepEqual(seen, [`active:${id}:4`, `progress:${id}:40`, `completed:${id}:4`]);
    assert.equal((await q.getJob(id))?.progress, 40);
  });
});

describe('worker.pause / resume', () => {
  test('pause gives back reserved jobs, waits for running ones, starts nothing until resume', async () => {
    const q = queue();
    const g = gate();
    const w = worker(q, g.handler, { concurrency: 1, prefetch: 5 });
    const paused: string[] = [];
    w.on('paused', () => paused.push('paused'));
    w.on('resumed', () => paused.push('resumed'));
    await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: i })));
    await until(() => g.running === 1);
    await until(async () => (await q.getCounts()).reserved > 0);
    let resolved = false;
    const pausing = w.pause().then(() => {
      resolved = true;
    });
    await until(async () => (await q.getCounts()).waiting === 5);
    assert.equal(resolved, false, 'pause waits for the running job');
    g.releaseAll();
    await pausing;
    assert.equal(w.isPaused(), true);
    await sleep(300);
    assert.equal(g.running, 0, 'nothing starts while paused');
    const counts = await q.getCounts();
    assert.deepEqual([counts.waiting, counts.active, counts.reserved], [5, 0, 0]);
    w.resume();
    await until(() => g.running === 1);
    const release = setInterval(() => g.releaseAll(), 5);
    await until(async () => (await q.getCounts()).completed === 6);
    clearInterval(release);
    assert.deepEqual(paused, ['paused', 'resumed']);
  });

  test('pause({ doNotWaitActive }) resolves at once', async () => {
    const q = queue();
    const g = gate();
    const w = worker(q, g.handler);
    await q.add('j', {});
    await until(() => g.running === 1);
    await w.pause({ doNotWaitActive: true });
    assert.equal(g.running, 1);
    g.releaseAll();
    await until(async () => (await q.getCounts()).completed === 1);
  });
});

describe('concurrency at run time', () => {
  test('raising starts more at once; lowering lets running jobs end and starts fewer', async () => {
    const q = queue();
    const g = gate();
    const w = worker(q, g.handler, { concurrency: 1 });
    await q.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'j', data: i })));
    await until(() => g.running === 1);
    await sleep(100);
    assert.equal(g.peak, 1);
    w.concurrency = 5;
    assert.equal(w.concurrency, 5);
    await until(() => g.running === 5);
    w.concurrency = 2;
    g.releaseAll();
    await until(() => g.running === 2);
    g.resetPeak();
    for (let i = 0; i < 5; i++) {
      g.releaseAll();
      await sleep(30);
    }
    assert.equal(g.peak, 2, 'at most 2 run after the cut');
    assert.throws(() => {
      w.concurrency = 0;
    }, ValidationError);
    const release = setInterval(() => g.releaseAll(), 5);
    await until(async () => (await q.getCounts()).completed === 30);
    clearInterval(release);
  });
});

describe('cancelling a running job', () => {
  test('worker.cancelJob: the signal fires, the slot frees, the job fails for good', async () => {
    const q = queue();
    let reason: unknown;
    const w = worker(
      q,
      (job) =>
        new Promise((_, reject) => {
          job.signal.addEventListener('abort', () => {
            reason = job.signal.reason;
            reject(job.signal.reason);
          });
        }),
    );
    const id = await q.add('j', {}, { attempts: 3 });
    await until(async () => (await q.getJob(id))?.state === 'active');
    await sleep(50);
    assert.equal(w.cancelJob('not-running'), false);
    assert.equal(w.cancelJob(id, 'user asked'), true);
    await until(async () => (await q.getJob(id))?.state === 'failed');
    assert.ok(reason instanceof CancelledError);
    const job = await q.getJob(id);
    assert.equal(job?.error?.name, 'CancelledError');
    assert.match(job?.error?.message ?? '', /user asked/);
    assert.equal(job?.attemptsMade, 1, 'no further attempt');
  });

  test('queue.cancel from another connection reaches the worker running it; ignoring the signal does not hold the slot', async () => {
    const q = queue();
    const other = fx.track(new Queue(q.name, { connection: fx.url, metrics: false }));
    let aborted = false;
    const w = worker(q, (job) => {
      job.signal.addEventListener('abort', () => {
        aborted = true;
      });
      return new Promise(() => {}); // never ends on its own
    });
    const id = await q.add('j', {});
    await until(async () => (await q.getJob(id))?.state === 'active');
    await sleep(100); // the worker's subscriber is connected
    assert.equal(await other.cancel(id, 'stop it'), true);
    await until(async () => (await q.getJob(id))?.state === 'failed');
    assert.equal(aborted, true);
    assert.equal(w.concurrency, 1);
    const next = await q.add('j2', {});
    await until(async () => (await q.getJob(next))?.state === 'active');
    await assert.rejects(other.cancel('nope'), JobStateError);
    await assert.rejects(other.cancel(''), ValidationError);
  });
});
