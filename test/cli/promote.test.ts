import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { runCli } from './run.js';

const fx = new QueueFixture({ closeAfterEach: true });
const cli = (...args: string[]) => runCli(fx.url, args);
const HOUR = 3600_000;

test('promote <id> makes a delayed job wait; --all --yes --json moves the rest', async () => {
  const q = fx.queue('cli-promote');
  const ids = await Promise.all([1, 2, 3].map((i) => q.add('later', { i }, { delay: HOUR })));
  const one = await cli('promote', q.name, ids[0]!);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /is waiting/);
  assert.equal((await q.getJob(ids[0]!))?.state, 'waiting');

  const refused = await cli('promote', q.name, '--all');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /pass --yes/);
  assert.equal((await q.getCounts()).delayed, 2, 'nothing promoted without --yes');

  const all = await cli('promote', q.name, '--all', '--yes', '--json');
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout), { promoted: 2 });
  const c = await q.getCounts();
  assert.equal(c.delayed, 0);
  assert.equal(c.waiting, 3);
});

test('promote refuses a job that is not delayed', async () => {
  const q = fx.queue('cli-promote-bad');
  const id = await q.add('now', {});
  const waiting = await cli('promote', q.name, id, '--json');
  assert.equal(waiting.code, 1);
  assert.match(waiting.stderr, /is waiting, not delayed/);
  assert.equal((await q.getCounts()).waiting, 1);
});
