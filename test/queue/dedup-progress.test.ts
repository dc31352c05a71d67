import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, JobStateError, LOG_LINES, type Queue, ValidationError } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });
const queue = fx.queue.bind(fx);
const worker = fx.worker.bind(fx);
const stateOf = async (q: Queue, id: string) => (await q.getJob(id))?.state;

describe('dedup modes', () => {
  test('debounce: later adds replace the data and push the start back; only the last data runs', async () => {
    const q = queue('debounce');
    const runs: { data: number; at: number }[] = [];
    worker<number>(q, (job) => {
      runs.push({ data: job.data, at: Date.now() });
    });
    const dedup = { key: 'wallet:7', ttl: 300, mode: 'debounce' } as const;
    const ids: string[] = [];
    let lastAdd = 0;
    for (let i = 1; i <= 5; i++) {
      ids.push(await q.add('rescan', i, { dedup }));
      lastAdd = Date.now();
      await sleep(100);
    }
    assert.equal(new Set(ids).size, 1, 'every add within the window reports the one pending job');
    await waitFor('the debounced job to run', () => runs.length === 1, 3000);
    assert.equal(runs[0]!.data, 5);
    assert.ok(
      runs[0]!.at - lastAdd >= 290,
      `ran ${runs[0]!.at - lastAdd} ms after the last add, expected >= 300`,
    );
    await sleep(400);
    assert.equal(runs.length, 1, 'the job ran once');
    // Once it has run, the same key makes a new job.
    const next = await q.add('rescan', 6, { dedup });
    assert.notEqual(next, ids[0]);
    await waitFor('the second job', () => runs.length === 2, 3000);
    assert.equal(runs[1]!.data, 6);
  });

  test('until-done: one live job per key until it finishes, then the key is free', async () => {
    const q = queue('until');
    const dedup = { key: 'scan:eth', mode: 'until-done' } as const;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    worker(q, async () => {
      await gate;
    });
    const first = await q.add('scan', 1, { dedup });
    await waitFor('the job to start', async () => (await stateOf(q, first)) === 'active');
    assert.equal(await q.add('scan', 2, { dedup }), first, 'dropped while the job runs');
    release();
    await waitFor('the job to finish', async () => (await stateOf(q, first)) === 'completed');
    const second = await q.add('scan', 3, { dedup });
    assert.notEqual(second, first, 'a new job once the first finished');
  });

  test('until-done: a job failed for good or removed frees its key; a retrying one keeps it', async () => {
    const q = queue('until-fail');
    const dedup = { key: 'k', mode: 'until-done' } as const;
    let attempts = 0;
    worker(q, () => {
      attempts++;
      throw new Error('always fails');
    });
    const a = await q.add('j', 1, { dedup, attempts: 2, backoff: 300 });
    await waitFor('the first attempt', () => attempts === 1);
    assert.equal(await q.add('j', 2, { dedup }), a, 'still held while a retry is pending');
    await waitFor('failed for good', async () => (await stateOf(q, a)) === 'failed', 3000);
    const b = await q.add('j', 3, { dedup, delay: 60_000 });
    assert.notEqual(b, a);
    assert.equal(await q.remove(b), true);
    const c = await q.add('j', 4, { dedup, delay: 60_000 });
    assert.notEqual(c, b, 'removing the job freed the key');
  });

  test('bad dedup options name the field and write nothing', async () => {
    const q = queue('dedup-bad');
    const cases: [Record<string, unknown>, string][] = [
      [{ dedup: { key: 'k', mode: 'sometimes', ttl: 5 } }, 'opts.dedup.mode'],
      [{ dedup: { key: 'k', mode: 'until-done', ttl: 5 } }, 'opts.dedup.ttl'],
      [{ dedup: { key: 'k', mode: 'debounce' } }, 'opts.dedup.ttl'],
      [{ dedup: { key: 'k', mode: 'debounce', ttl: 100 }, delay: 5 }, 'opts.delay'],
    ];
    for (const [opts, field] of cases) {
      await assert.rejects(
        () => q.add('j', 1, opts),
        (err: unknown) => err instanceof ValidationError && err.field === field,
        field,
      );
    }
    assert.deepEqual(await q.getCounts(), {
      waiting: 0,
      delayed: 0,
      active: 0,
      reserved: 0,
      completed: 0,
      failed: 0,
      waitingChildren: 0,
    });
  });
});

describe('progress and logs', () => {
  test('the handler reports progress and log lines; getJob reads them back, logs capped', async () => {
    const q = queue('progress');
    let held: Job | undefined;
    worker(q, async (job) => {
      held = job;
      await job.updateProgress({ done: 1, of: 4 });
      for (let i = 1; i <= LOG_LINES + 50; i++) job.log(`line ${i}\nwith a newline`);
      await job.updateProgress(75);
      await job.log('last line');
      return 'ok';
    });
    const id = await q.add('report', null);
    await waitFor('completed', async () => (await stateOf(q, id)) === 'completed');
    const info = (await q.getJob(id))!;
    assert.equal(info.progress, 75);
    assert.equal(info.logs.length, LOG_LINES);
    assert.equal(info.logs.at(-1), 'last line');
    assert.equal(info.logs.at(-2), `line ${LOG_LINES + 50} with a newline`);
    // The job is finished: its former holder may no longer write to it.
    await assert.rejects(() => held!.updateProgress(100), JobStateError);
    assert.equal((await q.getJob(id))!.progress, 75);
  });

  test('progress that JSON cannot carry is refused with a typed error', async () => {
    const q = queue('progress-bad');
    let error: unknown;
    worker(q, async (job) => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      error = await job.updateProgress(cyclic).catch((e: unknown) => e);
    });
    const id = await q.add('j', null);
    await waitFor('completed', async () => (await stateOf(q, id)) === 'completed');
    assert.ok(error instanceof ValidationError && error.field === 'progress');
    assert.equal((await q.getJob(id))!.progress, undefined);
  });

  test('removing a finished job deletes its progress and logs', async () => {
    const q = queue('progress-rm');
    worker(q, async (job) => {
      await job.updateProgress(1);
      await job.log('x');
    });
    const id = await q.add('j', null);
    await waitFor('completed', async () => (await stateOf(q, id)) === 'completed');
    await q.remove(id);
    const { Redis } = await import('ioredis');
    const raw = new Redis(fx.url);
    assert.equal(await raw.hexists(q.keys.progress, id), 0);
    assert.equal(await raw.hexists(q.keys.logs, id), 0);
    raw.disconnect();
  });
});
