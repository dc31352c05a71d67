import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CheckInput, check } from '../../chaos/checker.js';
import type { Kind, Line } from '../../chaos/log.js';
import type { StoredJob } from '../../chaos/targets/types.js';

/** The chaos checker over hand-written logs: each anomaly it must find, and none where there is none. */
const l = (kind: Kind, ts: number, a: string, b = ''): Line => ({ kind, ts, a, b });

/** Marker m1 added as job 1, run once and completed: a clean history. */
function clean(): CheckInput {
  return {
    producers: [[l('A', 1, 'm1'), l('K', 2, 'm1', '1')]],
    workers: [
      {
        name: 'w0.1',
        aliveAtEnd: true,
        lines: [l('R', 0, '100'), l('S', 3, '1', 'm1'), l('D', 4, '1', 'm1'), l('C', 5, '1', 'm1')],
      },
    ],
    stored: [{ id: '1', marker: 'm1', state: 'completed' }],
  };
}

const job = (id: string, marker: string, state: StoredJob['state']): StoredJob => ({ id, marker, state });

describe('chaos checker', () => {
  test('a clean history has no anomaly', () => {
    const f = check(clean());
    assert.deepEqual(
      [f.attempted, f.acknowledged, f.completed, f.lost, f.stuck, f.failed, f.duplicateAdds],
      [1, 1, 1, 0, 0, 0, 0],
    );
    assert.deepEqual(
      [f.duplicateCompletions, f.startsAfterCompletion, f.reruns, f.stoppedWorkers],
      [0, 0, 0, 0],
    );
  });

  test('an acknowledged add that never completed and is not in Redis is lost', () => {
    const input = clean();
    input.producers[0]!.push(l('A', 6, 'm2'), l('K', 7, 'm2', '2'));
    const f = check(input);
    assert.equal(f.lost, 1);
    assert.deepEqual(f.examples.lost, ['m2 (2)']);
  });

  test('an unacknowledged add that is absent is not lost; one still waiting is stuck', () => {
    const input = clean();
    input.producers[0]!.push(l('A', 6, 'm2'), l('E', 7, 'm2'), l('A', 8, 'm3'));
    input.stored.push(job('3', 'm3', 'waiting'));
    const f = check(input);
    assert.deepEqual([f.unacknowledged, f.lost, f.stuck], [2, 0, 1]);
  });

  test('an acknowledged job left active or failed is stuck or failed, not lost', () => {
    const input = clean();
    input.producers[0]!.push(l('A', 6, 'm2'), l('K', 7, 'm2', '2'), l('A', 8, 'm3'), l('K', 9, 'm3', '3'));
    input.stored.push(job('2', 'm2', 'active'), job('3', 'm3', 'failed'));
    const f = check(input);
    assert.deepEqual([f.lost, f.stuck, f.failed], [0, 1, 1]);
  });

  test('a completion seen only in a worker log counts (the record may be gone)', () => {
    const input = clean();
    input.stored = [];
    assert.equal(check(input).lost, 0);
  });

  test('one marker stored as two jobs is a duplicate add, whichever source names the second id', () => {
    const fromRedis = clean();
    fromRedis.stored.push(job('9', 'm1', 'completed'));
    assert.equal(check(fromRedis).duplicateAdds, 1);
    const fromWorker = clean();
    fromWorker.workers[0]!.lines.push(l('S', 6, '9', 'm1'));
    const f = check(fromWorker);
    assert.equal(f.duplicateAdds, 1);
    assert.deepEqual(f.examples.duplicateAdds, ['m1 -> 1,9']);
  });

  test('two completions of one job, and a start after its completion, are counted apart from re-runs', () => {
    const input = clean();
    input.workers.push({
      name: 'w1.1',
      aliveAtEnd: true,
      lines: [l('R', 0, '101'), l('S', 6, '1', 'm1'), l('C', 7, '1', 'm1')],
    });
    const f = check(input);
    assert.deepEqual([f.duplicateCompletions, f.startsAfterCompletion, f.reruns], [1, 1, 1]);
  });

  test('a re-run that started before the completion is at-least-once, not a start after completion', () => {
    const input = clean();
    input.workers.push({ name: 'w1.1', aliveAtEnd: false, lines: [l('R', 0, '101'), l('S', 2, '1', 'm1')] });
    const f = check(input);
    assert.deepEqual([f.reruns, f.startsAfterCompletion, f.duplicateCompletions], [1, 0, 0]);
  });

  test('a live worker idle since the last Redis restart while jobs were added is a stopped worker', () => {
    const input = clean();
    input.lastRedisUpAt = 10;
    input.producers[0]!.push(l('A', 11, 'm2'), l('K', 12, 'm2', '2'));
    input.workers.push({
      name: 'w1.1',
      aliveAtEnd: true,
      lines: [l('R', 0, '101'), l('S', 13, '2', 'm2'), l('C', 14, '2', 'm2')],
    });
    input.workers.push({ name: 'w2.2', aliveAtEnd: true, lines: [l('R', 11, '102')] });
    input.workers.push({ name: 'w3.1', aliveAtEnd: false, lines: [l('R', 0, '103')] });
    const f = check(input);
    // w0.1 took nothing after 10; w2.2 started after the restart, w3.1 was killed.
    assert.equal(f.stoppedWorkers, 1);
    assert.deepEqual(f.examples.stoppedWorkers, ['w0.1']);
  });
});
