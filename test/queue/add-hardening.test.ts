import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JobStateError, type Queue } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });
const queue = fx.queue.bind(fx);
const worker = fx.worker.bind(fx);

const stateOf = async (q: Queue, id: string) => (await q.getJob(id))?.state;

describe('getJobs', () => {
  test('end -1 lists every state to its end, waiting ones of every kind included', async () => {
    const q = queue('getjobs');
    await q.pause(); // nothing runs while the states are listed
    const plain = [await q.add('j', 1), await q.add('j', 2)];
    const urgent = await q.add('j', 3, { priority: 2 });
    const grouped = await q.add('j', 4, { group: 'g' });
    const groupedUrgent = await q.add('j', 5, { group: 'g', priority: 1 });
    const delayed = [await q.add('j', 6, { delay: 60_000 }), await q.add('j', 7, { delay: 60_000 })];
    const ids = async (state: Parameters<typeof q.getJobs>[0], start: number, end: number) =>
      (await q.getJobs(state, start, end)).map((j) => j.id);
    assert.deepEqual(await ids('waiting', 0, -1), [urgent, ...plain, groupedUrgent, grouped]);
    assert.deepEqual(await ids('waiting', 1, -1), [...plain, groupedUrgent, grouped]);
    assert.deepEqual(await ids('waiting', 3, -1), [groupedUrgent, grouped]);
    assert.deepEqual(await ids('delayed', 0, -1), delayed);
  });

  test('bad ranges are refused naming the argument', async () => {
    const q = queue('getjobs-bad');
    await assert.rejects(q.getJobs('waiting', -1, 5), { name: 'ValidationError', field: 'start' });
    await assert.rejects(q.getJobs('waiting', 0, 1.5), { name: 'ValidationError', field: 'end' });
    await assert.rejects(q.getJobs('waiting', 0, -2), { name: 'ValidationError', field: 'end' });
  });
});

describe('retry of an until-done job', () => {
  test('takes its key again, so a second live job with the key cannot be added', async () => {
    const q = queue('ud-retry');
    const dedup = { key: 'wallet-7', mode: 'until-done' } as const;
    let fail = true;
    const w = worker(q, () => {
      if (fail) throw new Error('fails while fail is set');
    });
    const a = await q.add('j', 1, { dedup });
    await waitFor('failed for good', async () => (await stateOf(q, a)) === 'failed');
    await w.close(); // the retried job waits, so the key must be held by it
    await q.retry(a);
    assert.equal(await stateOf(q, a), 'waiting');
    assert.equal(await q.add('j', 2, { dedup }), a, 'the retried job holds the key');
    assert.equal((await q.getCounts()).waiting, 1);
    // And frees it when it finishes.
    fail = false;
    worker(q, () => {});
    await waitFor('the retried job completed', async () => (await stateOf(q, a)) === 'completed');
    assert.notEqual(await q.add('j', 3, { dedup, delay: 60_000 }), a, 'the key is free again');
  });

  test('is refused while another live job holds the key; retryAll leaves it failed', async () => {
    const q = queue('ud-retry-held');
    const dedup = { key: 'k', mode: 'until-done' } as const;
    const w = worker(q, () => {
      throw new Error('fails');
    });
    const a = await q.add('j', 1, { dedup });
    const other = await q.add('j', 2, { attempts: 1 }); // fails too, without a key
    await waitFor('both failed', async () => (await q.getCounts()).failed === 2);
    await w.close();
    const b = await q.add('j', 3, { dedup });
    assert.notEqual(b, a, 'the failed job freed the key');
    await assert.rejects(q.retry(a), (err: unknown) => {
      assert.ok(err instanceof JobStateError);
      assert.match(err.message, new RegExp(`held by live job ${b}`));
      return true;
    });
    assert.equal(await stateOf(q, a), 'failed');
    assert.equal(await q.retryAll(), 1, 'only the job without a held key');
    assert.equal(await stateOf(q, a), 'failed');
    assert.equal(await stateOf(q, other), 'waiting');
    assert.equal((await q.getCounts()).waiting, 2);
  });
});
