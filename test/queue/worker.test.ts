import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, Queue, UnrecoverableError, Worker, type WorkerOptions } from '../../src/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture();
let n = 0;

function queue(): Queue {
  return fx.track(new Queue(`w-${++n}`, { connection: fx.connection }));
}
function worker<D>(q: Queue, handler: (job: Job<D>) => unknown, opts: WorkerOptions = {}): Worker<D> {
  return fx.track(new Worker<D>(q.name, handler, { connection: fx.connection, ...opts }));
}
async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}
const stateOf = async (q: Queue, id: string) => (await q.getJob(id))?.state;

describe('retries and failures', () => {
  test('exponential backoff: attempts spaced by delay, 2x delay, then failed with error and stack', async () => {
    const q = queue();
    const times: number[] = [];
    worker(q, () => {
      times.push(Date.now());
      throw new Error(`telegram down (${times.length})`);
    });
    const id = await q.add(
      'send-alert',
      { chat: 1 },
      { attempts: 3, backoff: { type: 'exponential', delay: 200 } },
    );
    await until(async () => (await stateOf(q, id)) === 'failed');
    assert.equal(times.length, 3);
    const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
    assert.ok(gaps[0]! >= 195 && gaps[0]! < 350, `first retry after ${gaps[0]} ms, expected ~200`);
    assert.ok(gaps[1]! >= 395 && gaps[1]! < 600, `second retry after ${gaps[1]} ms, expected ~400`);
    const job = await q.getJob(id);
    assert.equal(job?.attemptsMade, 3);
    assert.equal(job?.error?.message, 'telegram down (3)');
    assert.match(job?.error?.stack ?? '', /worker\.test\.ts/);
  });

  test('fixed backoff with jitter stays within [delay*(1-jitter), delay]', async () => {
    const q = queue();
    const times: number[] = [];
    worker(q, () => {
      times.push(Date.now());
      throw new Error('x');
    });
    const id = await q.add('j', {}, { attempts: 4, backoff: { type: 'fixed', delay: 200, jitter: 0.5 } });
    await until(async () => (await stateOf(q, id)) === 'failed');
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      assert.ok(gap >= 95 && gap < 320, `gap ${gap} outside jittered range`);
    }
  });

  test('UnrecoverableError skips the remaining attempts', async () => {
    const q = queue();
    let calls = 0;
    worker(q, () => {
      calls++;
      throw new UnrecoverableError('bad wallet address');
    });
    const id = await q.add('j', {}, { attempts: 5, backoff: 10 });
    await until(async () => (await stateOf(q, id)) === 'failed');
    assert.equal(calls, 1);
    assert.equal((await q.getJob(id))?.error?.name, 'UnrecoverableError');
  });

  test('bad handlers fail their attempt with a clear reason and the worker keeps running', async () => {
    const q = queue();
    const w = worker(
      q,
      async (job: Job<{ kind: string }>) => {
        switch (job.data.kind) {
          case 'string':
            throw 'just a string';
          case 'circular': {
            const o: Record<string, unknown> = {};
            o.o = o;
            return o;
          }
          case 'bigint':
            return 10n;
          case 'hang':
            return new Promise(() => {});
          default:
            return 'fine';
        }
      },
      { jobTimeout: 300, concurrency: 4 },
    );
    const failures: string[] = [];
    w.on('failed', (_job, err: Error) => failures.push(err.message));
    const ids = await Promise.all(
      ['string', 'circular', 'bigint', 'hang'].map((kind) => q.add(kind, { kind })),
    );
    await until(async () => (await q.getCounts()).failed === 4);
    const errors = await Promise.all(ids.map(async (id) => (await q.getJob(id))?.error?.message ?? ''));
    assert.match(errors[0]!, /non-Error value: "just a string"/);
    assert.match(errors[1]!, /not JSON-serialisable/);
    assert.match(errors[2]!, /not JSON-serialisable/);
    assert.match(errors[3]!, /timed out after 300 ms/);
    assert.equal(failures.length, 4);
    const ok = await q.add('fine', { kind: 'fine' });
    await until(async () => (await stateOf(q, ok)) === 'completed');
    assert.equal((await q.getJob(ok))?.returnValue, 'fine');
  });

  test('timeout fails the attempt and aborts the job signal', async () => {
    const q = queue();
    let aborted: unknown;
    worker(
      q,
      (job) =>
        new Promise((resolve) =>
          job.signal.addEventListener('abort', () => {
            aborted = job.signal.reason;
            resolve('too late');
          }),
        ),
    );
    const id = await q.add('slow', {}, { timeout: 150 });
    await until(async () => (await stateOf(q, id)) === 'failed');
    assert.equal((await q.getJob(id))?.error?.name, 'TimeoutError');
    assert.ok(aborted instanceof Error && aborted.name === 'TimeoutError');
  });

  test('retry() and retryAll() redrive failed jobs with a fresh attempt count', async () => {
    const q = queue();
    let healthy = false;
    worker(q, () => {
      if (!healthy) throw new Error('db down');
      return 'ok';
    });
    const ids = await Promise.all([1, 2, 3].map((i) => q.add('j', { i })));
    await until(async () => (await q.getCounts()).failed === 3);
    healthy = true;
    await q.retry(ids[0]!);
    await until(async () => (await stateOf(q, ids[0]!)) === 'completed');
    assert.equal((await q.getJob(ids[0]!))?.attemptsMade, 0);
    assert.equal(await q.retryAll(), 2);
    await until(async () => (await q.getCounts()).completed === 3);
    await assert.rejects(q.retry(ids[0]!), /not in the failed set/);
  });
});

describe('processing', () => {
  test('concurrency is never exceeded and events fire', async () => {
    const q = queue();
    let running = 0;
    let peak = 0;
    const w = worker(
      q,
      async () => {
        peak = Math.max(peak, ++running);
        await sleep(5);
        running--;
      },
      { concurrency: 7 },
    );
    let completed = 0;
    let drained = 0;
    w.on('completed', () => completed++);
    w.on('drained', () => drained++);
    await q.addBulk(Array.from({ length: 200 }, (_, i) => ({ name: 'j', data: i })));
    await until(() => completed === 200);
    await until(() => drained > 0);
    assert.equal(peak, 7);
  });

  test('a worker fetches and settles in batches: far fewer script calls than jobs', async () => {
    const q = queue();
    await q.addBulk(
      Array.from({ length: 2000 }, (_, i) => ({ name: 'j', data: i, opts: { removeOnComplete: true } })),
    );
    await fx.raw.config('RESETSTAT');
    const w = worker(q, async () => {}, { concurrency: 50 });
    let done = 0;
    w.on('completed', () => done++);
    await until(() => done === 2000);
    // Every fetch, settle and heartbeat is one script call (EVALSHA, or EVAL after NOSCRIPT).
    const stats = await fx.raw.info('commandstats');
    const calls = [...stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    assert.ok(calls > 0, 'script calls were counted');
    assert.ok(calls < 2000 / 5, `${calls} script calls for 2000 jobs`);
  });

  test('pause stops workers taking jobs; resume restarts them', async () => {
    const q = queue();
    let done = 0;
    worker(q, () => void done++);
    await q.pause();
    assert.equal(await q.isPaused(), true);
    await q.add('j', {});
    await sleep(300);
    assert.equal(done, 0);
    await q.resume();
    await until(() => done === 1);
  });

  test('getJobs lists each state; remove, drain and obliterate delete', async () => {
    const q = queue();
    const waiting = await q.add('w', {});
    const delayed = await q.add('d', {}, { delay: 60_000 });
    assert.deepEqual(
      (await q.getJobs('waiting')).map((j) => j.id),
      [waiting],
    );
    assert.deepEqual(
      (await q.getJobs('delayed')).map((j) => j.id),
      [delayed],
    );
    assert.ok((await q.getJob(delayed))!.delayUntil! > Date.now());
    assert.equal(await q.remove(waiting), true);
    assert.equal(await q.remove(waiting), false);
    await q.addBulk([
      { name: 'a', data: 1 },
      { name: 'b', data: 2 },
    ]);
    assert.equal(await q.drain(), 3);
    assert.deepEqual(await q.getCounts(), {
      waiting: 0,
      delayed: 0,
      active: 0,
      reserved: 0,
      completed: 0,
      failed: 0,
      waitingChildren: 0,
    });
    await q.add('x', {}, { dedup: { key: 'k', ttl: 60_000 } });
    await q.obliterate();
    let cursor = '0';
    const left: string[] = [];
    do {
      const [next, keys] = await fx.raw.scan(cursor, 'MATCH', `${q.keys.tag}*`);
      left.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    assert.deepEqual(left, []);
  });
});

describe('retention', () => {
  test('removeOnComplete: true keeps nothing; a count keeps the newest; failed kept for retry', async () => {
    const q = queue();
    let i = 0;
    const w = worker(q, () => {
      if (++i > 10) throw new Error('no');
    });
    let settled = 0;
    w.on('completed', () => settled++);
    w.on('failed', () => settled++);
    for (let j = 0; j < 5; j++) await q.add('gone', {}, { removeOnComplete: true });
    for (let j = 0; j < 5; j++) await q.add('kept', {}, { removeOnComplete: 2 });
    await q.add('f', {});
    await until(() => settled === 11);
    const counts = await q.getCounts();
    assert.equal(counts.completed, 2);
    assert.equal(counts.failed, 1);
    assert.equal(await fx.raw.hlen(q.keys.jobs), 3);
  });

  test('age retention trims finished jobs without waiting for another job to finish', async () => {
    const q = queue();
    let done = 0;
    const w = worker(q, () => void done++, { leaseMs: 300 });
    await q.add('short-lived', {}, { removeOnComplete: { age: 200 } });
    await until(() => done === 1);
    // Kept until its age passes (its settle may still be on its way when the handler returns).
    await until(async () => (await q.getCounts()).completed === 1);
    await until(async () => (await q.getCounts()).completed === 0, 2000);
    assert.equal(await fx.raw.hlen(q.keys.jobs), 0);
    assert.equal(await fx.raw.hlen(q.keys.results), 0);
    await w.close();
  });
});

describe('memory', () => {
  test('a waiting job costs a bounded number of bytes in Redis', async () => {
    const q = queue();
    const data = { i: 0, t: 1700000000000 }; // ~30 bytes, like the benchmark payload
    const before = Number((await fx.raw.info('memory')).match(/used_memory:(\d+)/)![1]);
    for (let i = 0; i < 10; i++) {
      await q.addBulk(
        Array.from({ length: 1000 }, (_, j) => ({ name: 'audit', data: { ...data, i: i * 1000 + j } })),
      );
    }
    const afterAdd = Number((await fx.raw.info('memory')).match(/used_memory:(\d+)/)![1]);
    const perJob = (afterAdd - before) / 10_000;
    console.log(`# bytes per waiting job (30-byte payload): ${perJob.toFixed(0)}`);
    assert.ok(perJob < 250, `${perJob} bytes per waiting job`);
  });
});
