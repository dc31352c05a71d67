import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueueFixture } from '../helpers/queue-fixture.js';

const fx = new QueueFixture({ closeAfterEach: true });
const queue = fx.queue.bind(fx);

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
